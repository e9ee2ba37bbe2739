package id.ktpbridge.testkit;

import static org.awaitility.Awaitility.await;

import java.time.Duration;

import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.submit.InputsInHand;

/** An input left waiting by an outage, as the sweeps find it: for tests of what they do with it. */
public final class WaitingInputs {

    private WaitingInputs() {
    }

    /** The only input's row, once its first presign was refused (its file stays for a later attempt). */
    public static LedgerRecord afterARefusedPresign(BridgeApp app) {
        await().atMost(Duration.ofSeconds(30)).until(() -> app.sandbox().injectedFailures("presign") >= 1
                && app.ledger().createdSince(0).size() == 1);
        return app.ledger().createdSince(0).get(0);
    }

    /**
     * Stops the source's {@code routes} and waits for the input's hold to be let go: the sweeps leave
     * an input a worker has in hand, and a stopped source does not take its file again meanwhile.
     */
    public static void noWorkerHasIt(BridgeApp app, LedgerRecord row, String... routes) throws Exception {
        for (String route : routes) {
            app.context().getRouteController().stopRoute(route);
        }
        InputsInHand inHand = app.bean("inputsInHand", InputsInHand.class);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            if (!inHand.takeToEnd(row.id())) {
                return false;
            }
            inHand.letGo(row.id());
            return true;
        });
    }

    /** As if no worker had touched the input's row for an hour (the sweeps leave rows touched lately). */
    public static void leftAloneAnHour(BridgeApp app, LedgerRecord row) throws Exception {
        try (var c = app.ledger().dataSource().getConnection(); var ps = c.prepareStatement(
                "UPDATE ktp_submission SET updated_at = ? WHERE id = ?")) {
            ps.setLong(1, System.currentTimeMillis() - 3_600_000);
            ps.setString(2, row.id());
            ps.executeUpdate();
        }
    }
}
