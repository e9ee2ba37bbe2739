package id.ktpbridge.submit;

import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import id.ktpbridge.Lru;
import id.ktpbridge.ingest.InputDeferredException;
import id.ktpbridge.ledger.Ledger;
import org.apache.camel.Exchange;
import org.apache.camel.support.SynchronizationAdapter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger rows of the inputs this instance's workers have in hand. In a cluster each such row
 * names this instance as its worker until a while ahead, renewed with the input claims: the claims
 * of SFTP and S3 name a file's version, so the same bytes put again at the same place are claimed
 * anew by another instance, whose intake finds the same unfinished row. Without the hold both would
 * presign, upload and confirm a submission of their own for it. The rows are also marked touched,
 * so the sweep of replaced inputs leaves them alone (see {@link ReplacedInputs}). A single instance
 * only keeps the set, for that sweep to leave the inputs in hand alone.
 */
public class InputsInHand {

    private static final Logger LOG = LoggerFactory.getLogger(InputsInHand.class);

    private final Ledger ledger;
    private final String instance;
    private final long holdMillis;
    private final boolean shared;
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    /** The inputs a hold turned away so far, by its row (see {@link #heldElsewhere}); a hold let go starts over. */
    private final Map<String, Integer> turnedAway = Collections.synchronizedMap(Lru.map(10_000));
    /** The pause of an input turned away by a hold, the first time (see {@link #heldElsewhere}). */
    public static final Duration HELD_PAUSE = Duration.ofSeconds(5);
    /** The longest such pause: the hold may be let go meanwhile, and the input waits out its pause all the same. */
    static final Duration MAX_HELD_PAUSE = Duration.ofSeconds(30);
    /** Exchange property: the row this exchange has in hand. */
    private static final String IN_HAND = "KtpInHand";

    /**
     * @param instance this instance's id ({@code ktp.cluster.instance-id})
     * @param holdMillis how long a hold lasts unrenewed ({@code ktp.source.claim-ttl}: an instance
     *     killed on an input lets go of it as its claims run out)
     * @param shared cluster mode: the holds are kept in the ledger
     */
    public InputsInHand(Ledger ledger, String instance, long holdMillis, boolean shared) {
        this.ledger = ledger;
        this.instance = instance;
        this.holdMillis = holdMillis;
        this.shared = shared;
    }

    /**
     * The exchange's worker has the input of row {@code ledgerId} in hand until the exchange ends.
     *
     * @throws InputDeferredException when another instance holds it: the input stays in its source
     */
    public void take(Exchange exchange, String ledgerId) {
        if (ledgerId.equals(exchange.getProperty(IN_HAND, String.class))) {
            return; // the same exchange run again after a passing ledger failure
        }
        if (!held.add(ledgerId)) {
            throw heldElsewhere(ledgerId, "another worker is submitting it (ledger " + ledgerId
                    + "); taken again later");
        }
        long now = System.currentTimeMillis();
        if (!takeInLedger(ledgerId, now)) {
            held.remove(ledgerId);
            throw heldElsewhere(ledgerId, "another instance of the cluster is submitting it (ledger "
                    + ledgerId + "); taken again later");
        }
        exchange.setProperty(IN_HAND, ledgerId);
        exchange.getExchangeExtension().addOnCompletion(new SynchronizationAdapter() {
            @Override
            public void onDone(Exchange done) {
                try {
                    letGo(ledgerId);
                } catch (RuntimeException e) {
                    // the hold runs out by itself, holdMillis from its last renewal
                    LOG.debug("Hold of ledger {} not let go: {}", ledgerId, e.getMessage());
                }
            }
        });
    }

    /**
     * The deferral of an input turned away because row {@code ledgerId} is held (by a worker of this
     * instance or another): its source leaves it {@link #HELD_PAUSE}, and that much longer each time
     * the same hold turns an input away, up to {@link #MAX_HELD_PAUSE}. Given back with no pause, it
     * was taken, read, hashed and copied again at every scan for as long as the hold lasted (a slow
     * upload, a long Retry-After).
     */
    public InputDeferredException heldElsewhere(String ledgerId, String why) {
        int times = turnedAway.merge(ledgerId, 1, Integer::sum);
        Duration pause = HELD_PAUSE.multipliedBy(times);
        return new InputDeferredException(why, pause.compareTo(MAX_HELD_PAUSE) > 0 ? MAX_HELD_PAUSE : pause);
    }

    private boolean takeInLedger(String ledgerId, long now) {
        if (!shared) {
            return true;
        }
        try {
            return ledger.takeInHand(ledgerId, instance, now + holdMillis, now);
        } catch (RuntimeException e) {
            held.remove(ledgerId);
            throw e;
        }
    }

    /**
     * Takes row {@code ledgerId} to end it, when no worker has its input in hand; {@link #letGo}
     * after. Here, or in a cluster on any instance whose hold has not run out.
     */
    public boolean takeToEnd(String ledgerId) {
        // in the set too: a worker of this instance meeting the input meanwhile leaves it
        if (!held.add(ledgerId)) {
            return false;
        }
        if (!takeInLedger(ledgerId, System.currentTimeMillis())) {
            held.remove(ledgerId);
            return false;
        }
        return true;
    }

    /** Lets go of the hold on row {@code ledgerId} (here and in the ledger). */
    public void letGo(String ledgerId) {
        held.remove(ledgerId);
        turnedAway.remove(ledgerId);
        if (shared) {
            ledger.letGo(ledgerId, instance);
        }
    }

    /** Renews the holds of the inputs in hand and marks their rows touched now (with the claim renewals). */
    public void renew() {
        List<String> ids = List.copyOf(held);
        if (shared && !ids.isEmpty()) {
            long now = System.currentTimeMillis();
            ledger.touch(ids, now, instance, now + holdMillis);
        }
    }
}
