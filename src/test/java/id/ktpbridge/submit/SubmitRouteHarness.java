package id.ktpbridge.submit;

import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ingest.ImageInspector;
import id.ktpbridge.ingest.PartnerUserResolver;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.result.ResultPublisher;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * {@code direct:submit-ktp} on its own: the real intake and failure recorder over the given ledger
 * and publisher, with {@code steps} standing in for the OneKYC steps (presign, upload, confirm).
 */
final class SubmitRouteHarness {

    private SubmitRouteHarness() {
    }

    static DefaultCamelContext start(Ledger ledger, ResultPublisher publisher, Object steps, Path spoolDir)
            throws Exception {
        return start(ledger, publisher, steps, spoolDir, null);
    }

    /** As above, as one instance of a cluster when {@code inHand} is given. */
    static DefaultCamelContext start(Ledger ledger, ResultPublisher publisher, Object steps, Path spoolDir,
                                     InputsInHand inHand) throws Exception {
        DefaultCamelContext camel = new DefaultCamelContext();
        // a passing ledger error is tried again quickly
        camel.getPropertiesComponent().addInitialProperty("ktp.db.retry-attempts", "3");
        camel.getPropertiesComponent().addInitialProperty("ktp.db.retry-delay", "10");
        Intake intake = new Intake(ledger, new ImageInspector(10 << 20),
                new PartnerUserResolver(null, "[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}", "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}",
                        "PARTNER_USER_ID"), publisher, new ObjectMapper(), "partner", spoolDir, true);
        if (inHand != null) {
            intake.clustered(true);
            intake.inputsInHand(inHand);
        }
        camel.getRegistry().bind("intake", intake);
        camel.getRegistry().bind("submitter", steps);
        camel.getRegistry().bind("failureRecorder", new FailureRecorder(ledger, publisher));
        camel.addRoutes(new SubmitRoutes());
        camel.start();
        return camel;
    }
}
