package id.ktpbridge.submit;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Inputs left unconfirmed (waiting out an outage, or on hand when a process was killed) at a place
 * no source of this configuration reads: the file drop, SFTP or S3 source turned off since, or set
 * to another folder, server, bucket or prefix (see {@link SourcePlaces}). Only their source hands an
 * input back, so they would stay open for good: no result, a batch run waiting for them, their
 * content claim turning the same image away from its new place as a duplicate.
 * <p>
 * Where the ledger is this process's alone, nobody else can take them again: they are ended once,
 * at start, as inputs whose file is gone ({@link ReplacedInputs#endIfGone}: {@code SOURCE_GONE}
 * with their result, or handed to the poller when uploaded). In a cluster, or on a ledger other
 * processes use, another instance may read that place (the Kubernetes manifests turn the file drop
 * off on every pod, beside a deployment that may own a shared folder; a rolling change of folder
 * has old instances still reading the old one): they are only counted in a WARN per source and
 * reason, for the operator to end them (README), and batch mode does not wait for them.
 */
public class StrandedInputs {

    private static final Logger LOG = LoggerFactory.getLogger(StrandedInputs.class);

    private final Ledger ledger;
    private final ReplacedInputs replaced;
    private final SourcePlaces places;
    private final boolean endThem;
    private final long startedAt;
    private final Duration untouchedFor;
    /** Found and left open (not this process's to end): batch mode does not wait for them. */
    private final Set<String> leftOpen = ConcurrentHashMap.newKeySet();
    private boolean looked;

    /**
     * @param endThem whether the ledger is this process's alone (no cluster, no other process on it)
     * @param startedAt this process's start: only inputs taken before it are looked at
     * @param untouchedFor elsewhere, how long an input must have been left alone to be counted
     *     ({@code ktp.source.claim-ttl}: a live instance renews its holds that often)
     */
    public StrandedInputs(Ledger ledger, ReplacedInputs replaced, SourcePlaces places, boolean endThem, long startedAt,
                          Duration untouchedFor) {
        this.ledger = ledger;
        this.replaced = replaced;
        this.places = places;
        this.endThem = endThem;
        this.startedAt = startedAt;
        this.untouchedFor = untouchedFor;
        if (endThem) {
            // an input of this kind that turns up first as the holder of a duplicate's bytes is ended then
            replaced.endStranded(places, startedAt);
        }
    }

    /**
     * One look, as the start ends; also a Camel bean method (route {@code end-stranded-inputs}), which
     * looks again only until a look has gone through (the ledger away at start, say).
     */
    public synchronized void atStart() {
        if (looked) {
            return;
        }
        long now = System.currentTimeMillis();
        List<LedgerRecord> rows = ledger.findUnconfirmedLeftAlone(startedAt,
                endThem ? startedAt : Math.min(startedAt, now - untouchedFor.toMillis()), now);
        Map<String, Integer> counts = new TreeMap<>();
        for (LedgerRecord row : rows) {
            String why = places.unread(row);
            if (why == null) {
                continue;
            }
            if (endThem) {
                if (replaced.endIfGone(row) != ReplacedInputs.Gone.ENDED) {
                    continue; // in hand: a worker met it as the holder of a duplicate's bytes, and deals with it
                }
            } else {
                leftOpen.add(row.id());
            }
            counts.merge(row.sourceType() + ": " + why, 1, Integer::sum);
        }
        counts.forEach((kind, count) -> {
            String type = kind.substring(0, kind.indexOf(':'));
            String why = kind.substring(kind.indexOf(':') + 2);
            if (endThem) {
                LOG.warn("{} {} input(s) left unconfirmed by an earlier run were at a place this configuration does"
                        + " not read ({}): ended FAILED SOURCE_GONE with their result, or handed to the poller when"
                        + " uploaded (README, Inputs in flight when a source changes)", count, type, why);
            } else {
                LOG.warn("{} {} input(s) have waited unconfirmed, untouched for over ktp.source.claim-ttl, at a place"
                        + " this instance does not read ({}): if no instance reads it, end them as README says (Inputs"
                        + " in flight when a source changes); batch mode does not wait for them", count, type, why);
            }
        });
        looked = true;
    }

    /** How many of the inputs found and left open are still open (batch mode does not wait for them). */
    public int stillOpen() {
        return leftOpen.isEmpty() ? 0 : ledger.countOpenAmong(List.copyOf(leftOpen));
    }
}
