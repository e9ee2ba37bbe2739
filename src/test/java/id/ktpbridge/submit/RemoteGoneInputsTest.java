package id.ktpbridge.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import id.ktpbridge.ledger.Leases;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.SubmissionState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The sweep's look at SFTP and S3 inputs left waiting: which inputs it asks their source about, at
 * most {@value ReplacedInputs#REMOTE_PAGE} per source and sweep, and what it does with those the
 * source says are gone (SftpGoneFileTest and S3GoneObjectTest run it against real servers).
 */
class RemoteGoneInputsTest {

    private static final Duration CLAIM_TTL = Duration.ofMinutes(10);
    private static final long HOUR_AGO = System.currentTimeMillis() - 3_600_000;

    private final LedgerRows rows = LedgerRows.inMemory("remote-gone");
    private final Ledger ledger = rows.ledger();
    private final NotedResults publisher = new NotedResults(ledger, (r, status, reason, message) -> r.id() + " "
            + status + " " + reason + " " + message);
    private final List<String> published = publisher.published;
    /** The SFTP source on h:22, folder inbox; the S3 source on bucket b, prefix inbox/. */
    private final SourcePlaces places = new SourcePlaces(true, Path.of("/srv/ktp/inbox"), true, "h:22", "inbox", false,
            true, "b", "inbox/");
    private final InputsInHand inHand = new InputsInHand(ledger, "here", CLAIM_TTL.toMillis(), false);
    private final ReplacedInputs replaced = new ReplacedInputs(ledger, publisher, new Leases(rows.ds(), "here"), inHand, null,
            CLAIM_TTL, Duration.ofSeconds(30), Duration.ofMinutes(30));
    private final Source sftp = new Source("sftp");
    private final Source s3 = new Source("s3");

    @AfterEach
    void tearDown() {
        rows.close();
    }

    @Test
    void inputsTheSourceSaysAreGoneAreEndedOrHandedToThePollerAndOnlyThey() {
        String received = rows.insert("sftp", "sftp://h:22/inbox/u1.png", SubmissionState.RECEIVED, HOUR_AGO);
        String presigned = rows.insert("s3", "s3://b/inbox/u2.png", SubmissionState.PRESIGNED, HOUR_AGO);
        String uploaded = rows.insert("sftp", "sftp://h:22/inbox/u3.png", SubmissionState.UPLOADED, HOUR_AGO);
        String there = rows.insert("sftp", "sftp://h:22/inbox/u4.png", SubmissionState.RECEIVED, HOUR_AGO);
        // touched within a claim's time: a worker of some instance may have it in hand
        String touched = rows.insert("sftp", "sftp://h:22/inbox/u5.png", SubmissionState.RECEIVED,
                System.currentTimeMillis());
        String held = rows.insert("s3", "s3://b/inbox/u6.png", SubmissionState.RECEIVED, HOUR_AGO);
        assertEquals(true, inHand.takeToEnd(held));
        // at a place no source of this configuration reads: StrandedInputs' to end, not asked about
        String elsewhere = rows.insert("sftp", "sftp://other:22/inbox/u7.png", SubmissionState.RECEIVED, HOUR_AGO);
        sftp.gone.addAll(Set.of("sftp://h:22/inbox/u1.png", "sftp://h:22/inbox/u3.png", "sftp://h:22/inbox/u5.png",
                "sftp://other:22/inbox/u7.png"));
        s3.gone.addAll(Set.of("s3://b/inbox/u2.png", "s3://b/inbox/u6.png"));
        replaced.remote(places, List.of(sftp, s3));

        replaced.sweep();

        // the page, then each one found gone again once in hand
        assertEquals(List.of(List.of("sftp://h:22/inbox/u1.png", "sftp://h:22/inbox/u3.png",
                "sftp://h:22/inbox/u4.png"), List.of("sftp://h:22/inbox/u1.png"), List.of("sftp://h:22/inbox/u3.png")),
                sorted(sftp.asked));
        assertEquals(List.of(List.of("s3://b/inbox/u2.png", "s3://b/inbox/u6.png"), List.of("s3://b/inbox/u2.png")),
                sorted(s3.asked));
        assertEquals(SubmissionState.FAILED, rows.state(received));
        assertEquals(SubmissionState.FAILED, rows.state(presigned));
        // its bytes are at OneKYC's storage: the poller confirms it and collects its outcome
        assertEquals(SubmissionState.CONFIRMED, rows.state(uploaded));
        assertEquals(List.of(received + " FAILED SOURCE_GONE its file left sftp", presigned
                + " FAILED SOURCE_GONE its file left s3").stream().sorted().toList(), published.stream().sorted().toList());
        for (String id : List.of(received, presigned, uploaded)) {
            assertNotNull(rows.released(id), "let go of: its content claim no longer turns the same image away");
        }
        for (String id : List.of(there, touched, held, elsewhere)) {
            assertEquals(SubmissionState.RECEIVED, rows.state(id), id);
            assertNull(rows.released(id), id);
        }

        replaced.sweep();
        assertEquals(2, published.size(), "one result each");
    }

    @Test
    void eachSweepAsksAboutAPageOfInputsAndTheNextGoesOnAfterIt() {
        List<String> refs = new ArrayList<>();
        for (int i = 0; i < ReplacedInputs.REMOTE_PAGE + 50; i++) {
            String ref = String.format("sftp://h:22/inbox/u%03d.png", i);
            rows.insert("sftp", ref, SubmissionState.RECEIVED, HOUR_AGO + i);
            refs.add(ref);
        }
        // one beyond the first page is gone: before, a page full of inputs still there hid it for good
        String last = refs.get(refs.size() - 1);
        sftp.gone.add(last);
        replaced.remote(places, List.of(sftp));

        replaced.sweep();
        assertEquals(refs.subList(0, ReplacedInputs.REMOTE_PAGE), sftp.asked.get(0));
        assertEquals(List.of(), published);
        replaced.sweep();
        assertEquals(refs.subList(ReplacedInputs.REMOTE_PAGE, refs.size()), sftp.asked.get(1));
        assertEquals(List.of(last), sftp.asked.get(2), "asked again once in hand");
        assertEquals(1, published.size());
        // a page short of full: the next sweep starts again from the first
        replaced.sweep();
        assertEquals(refs.subList(0, ReplacedInputs.REMOTE_PAGE), sftp.asked.get(3));
    }

    @Test
    void anInputEveryLookBreaksOffAtIsPassedOverSoTheOthersAreStillAskedAbout() {
        List<String> refs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String ref = String.format("sftp://h:22/inbox/u%03d.png", i);
            rows.insert("sftp", ref, SubmissionState.RECEIVED, HOUR_AGO + i);
            refs.add(ref);
        }
        replaced.remote(places, List.of(sftp));
        sftp.answersFor = 0; // its folder hangs: the look never gets past the first

        replaced.sweep();
        replaced.sweep();
        replaced.sweep();

        assertEquals(List.of(refs, refs, refs.subList(1, 3)), sftp.asked);
    }

    @Test
    void aFileBackBeforeItsInputIsEndedIsLeftToItsAttempts() {
        // some tools replace a file by deleting it first: the page's look met that moment
        String back = rows.insert("sftp", "sftp://h:22/inbox/u8.png", SubmissionState.RECEIVED, HOUR_AGO);
        sftp.goneOnce.add("sftp://h:22/inbox/u8.png");
        replaced.remote(places, List.of(sftp));

        replaced.sweep();

        assertEquals(List.of(List.of("sftp://h:22/inbox/u8.png"), List.of("sftp://h:22/inbox/u8.png")), sftp.asked);
        assertEquals(SubmissionState.RECEIVED, rows.state(back));
        assertEquals(List.of(), published);
    }

    @Test
    void aLookThatBrokeOffHasTheInputsItDidNotAnswerForAskedAgainFirst() {
        List<String> refs = new ArrayList<>();
        for (int i = 0; i < ReplacedInputs.REMOTE_PAGE + 50; i++) {
            String ref = String.format("sftp://h:22/inbox/u%03d.png", i);
            rows.insert("sftp", ref, SubmissionState.RECEIVED, HOUR_AGO + i);
            refs.add(ref);
        }
        replaced.remote(places, List.of(sftp));
        sftp.answersFor = 30; // then the session broke

        replaced.sweep();
        sftp.answersFor = Integer.MAX_VALUE;
        replaced.sweep();

        assertEquals(refs.subList(0, ReplacedInputs.REMOTE_PAGE), sftp.asked.get(0));
        assertEquals(refs.subList(30, 30 + ReplacedInputs.REMOTE_PAGE), sftp.asked.get(1),
                "the next look starts at the first input not answered for");
    }

    /** A source that says the references in {@link #gone} are gone, and notes what it was asked. */
    private static final class Source implements GoneCheck {
        private final String type;
        final Set<String> gone = ConcurrentHashMap.newKeySet();
        /** Gone at the first look only (put back at once). */
        final Set<String> goneOnce = ConcurrentHashMap.newKeySet();
        final List<List<String>> asked = new CopyOnWriteArrayList<>();
        /** How many references of a look are answered for before it breaks off. */
        volatile int answersFor = Integer.MAX_VALUE;

        Source(String type) {
            this.type = type;
        }

        @Override
        public String sourceType() {
            return type;
        }

        @Override
        public String goneMessage() {
            return "its file left " + type;
        }

        @Override
        public String place() {
            return type;
        }

        @Override
        public Answer look(List<String> sourceRefs) {
            asked.add(List.copyOf(sourceRefs));
            List<String> answered = sourceRefs.subList(0, Math.min(answersFor, sourceRefs.size()));
            Set<String> found = new java.util.HashSet<>();
            for (String ref : answered) {
                if (gone.contains(ref) || goneOnce.remove(ref)) {
                    found.add(ref);
                }
            }
            return new Answer(Set.copyOf(answered), found);
        }
    }

    private static List<List<String>> sorted(List<List<String>> asked) {
        return asked.stream().map(refs -> refs.stream().sorted().toList())
                .sorted(java.util.Comparator.comparing(Object::toString)).toList();
    }

}
