package id.ktpbridge.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import id.ktpbridge.ledger.Leases;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.testkit.LogCapture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Inputs an earlier run left unconfirmed where no source of this configuration reads: ended where
 * the ledger is this process's alone, else only counted (another instance may read that place).
 */
class StrandedInputsTest {

    private static final Path DROP = Path.of("/srv/ktp/inbox");
    private static final Duration CLAIM_TTL = Duration.ofMinutes(10);

    private final LedgerRows rows = LedgerRows.inMemory("stranded");
    private final Ledger ledger = rows.ledger();
    private final NotedResults publisher = new NotedResults(ledger, (r, status, reason, message) -> r.id() + " "
            + status + " " + reason);
    private final List<String> published = publisher.published;
    /** The file drop on (its folder {@link #DROP}), SFTP and S3 off. */
    private final SourcePlaces places = new SourcePlaces(true, DROP, false, "", "inbox", false, false, "", "");
    private final InputsInHand inHand = new InputsInHand(ledger, "here", CLAIM_TTL.toMillis(), false);

    @AfterEach
    void tearDown() {
        rows.close();
    }

    @Test
    void onALedgerOfItsOwnTheyAreEndedOrHandedToThePollerAndOnlyThey() {
        long start = System.currentTimeMillis();
        String received = rows.insert("sftp", "sftp://h:22/inbox/u1.png", SubmissionState.RECEIVED, start - 60_000);
        String uploaded = rows.insert("s3", "s3://b/inbox/u2.png", SubmissionState.UPLOADED, start - 60_000);
        String elsewhere = rows.insert("file", "file:/srv/ktp/other/u3.png", SubmissionState.PRESIGNED, start - 60_000);
        String read = rows.insert("file", "file:" + DROP.resolve("u4.png"), SubmissionState.RECEIVED, start - 60_000);
        String ownRoute = rows.insert("http", "https://example/u5.png", SubmissionState.RECEIVED, start - 60_000);
        String sinceStart = rows.insert("sftp", "sftp://h:22/inbox/u6.png", SubmissionState.RECEIVED, start + 1);
        String held = rows.insert("sftp", "sftp://h:22/inbox/u7.png", SubmissionState.RECEIVED, start - 60_000);
        assertTrue(inHand.takeToEnd(held));

        stranded(true, start).atStart();

        assertEquals(SubmissionState.FAILED, rows.state(received));
        assertEquals("SOURCE_GONE", ledger.findById(received).orElseThrow().reasonCode());
        assertEquals(SubmissionState.FAILED, rows.state(elsewhere));
        // its bytes are at OneKYC's storage: the poller confirms it and collects its outcome
        assertEquals(SubmissionState.CONFIRMED, rows.state(uploaded));
        assertEquals(List.of(received + " FAILED SOURCE_GONE", elsewhere + " FAILED SOURCE_GONE").stream().sorted()
                .toList(), published.stream().sorted().toList());
        for (String id : List.of(received, uploaded, elsewhere)) {
            assertNotNull(rows.released(id), "let go of: its content claim no longer turns the same image away");
        }
        for (String id : List.of(read, ownRoute, sinceStart, held)) {
            assertEquals(SubmissionState.RECEIVED, rows.state(id), id);
        }
    }

    @Test
    void onALedgerOthersUseTooTheyAreCountedAndLeftWithoutHoldingUpABatch() {
        long start = System.currentTimeMillis();
        long hourAgo = start - 3_600_000;
        String sftp = rows.insert("sftp", "sftp://h:22/inbox/u1.png", SubmissionState.RECEIVED, hourAgo);
        String s3 = rows.insert("s3", "s3://b/inbox/u2.png", SubmissionState.UPLOADED, hourAgo);
        // touched a moment ago: an instance that reads SFTP has it in hand
        String touched = rows.insert("sftp", "sftp://h:22/inbox/u3.png", SubmissionState.RECEIVED, start - 1_000);
        StrandedInputs stranded = stranded(false, start);

        try (LogCapture log = new LogCapture()) {
            stranded.atStart();
            assertEquals(1, log.count("1 sftp input(s) have waited unconfirmed, untouched for over"
                    + " ktp.source.claim-ttl, at a place this instance does not read (the SFTP source is off"), log.text());
            assertEquals(1, log.count("1 s3 input(s) have waited unconfirmed"), log.text());
        }

        for (String id : List.of(sftp, s3, touched)) {
            assertTrue(!rows.state(id).isFinal(), id);
        }
        assertEquals(List.of(), published);
        assertEquals(2, stranded.stillOpen());
        ledger.markEnded(sftp, SubmissionState.FAILED, "SOURCE_GONE", "ended by the operator");
        assertEquals(1, stranded.stillOpen());
    }

    private StrandedInputs stranded(boolean endThem, long start) {
        ReplacedInputs replaced = new ReplacedInputs(ledger, publisher, new Leases(rows.ds(), "here"), inHand, null,
                CLAIM_TTL, Duration.ofSeconds(30), Duration.ofMinutes(30));
        return new StrandedInputs(ledger, replaced, places, endThem, start, CLAIM_TTL);
    }

}
