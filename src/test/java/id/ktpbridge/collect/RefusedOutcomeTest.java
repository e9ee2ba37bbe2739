package id.ktpbridge.collect;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import id.ktpbridge.gtf.GtfApiException;
import id.ktpbridge.ledger.Ledger;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A confirmed submission whose status or details OneKYC refuses for good (a 4xx the reference
 * calls non-retryable, other than the credential answers 401/403) ends with a FAILED result naming
 * the call: at once, or for "does not exist" from status once {@code ktp.poll.not-found-grace}
 * has passed; a status refusal only when the details are refused too (final details are the result,
 * others leave it polled). One whose details stay unavailable ends as TIMED_OUT at its poll
 * deadline, one whose status never says final gets its details asked there first. Neither
 * is retried for ever. Details that say COMPLETED without a result are asked again, and published
 * as they are at the deadline.
 */
class RefusedOutcomeTest {

    @TempDir
    Path dataDir;

    @Test
    void statusRefusedWithSubmissionDoesNotExistFailsOnceTheGraceIsOver() throws Exception {
        // the 30-minute default deadline stays: the result must not wait for it
        Map<String, String> p = props("60000");
        p.put("ktp.poll.not-found-grace", "5s");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3101.png");
            // the ledger now names a submission OneKYC never issued: status answers 404/1543
            String unknown = UUID.randomUUID().toString();
            rewrite(app, "submission_id", unknown, row.id());

            JsonNode result = awaitOneResult(app);
            assertEquals("FAILED", result.path("status").asText());
            assertEquals("GTF_STATUS_FAILED", result.path("reasonCode").asText());
            assertTrue(result.path("receivedVia").isNull(), "decided here, not received: " + result);
            assertTrue(result.path("errorMessage").asText().contains("HTTP 404 (code 1543, SUBMISSION_DOES_NOT_EXIST)"),
                    result.toString());
            assertEquals(SubmissionState.DELIVERED, app.ledger().findById(row.id()).orElseThrow().state());
            assertTrue(notFoundAnswers(app, unknown) >= 2, "asked again within the grace");
        }
    }

    @Test
    void aStatusRefusalIsCheckedWithTheDetailsBeforeItEndsTheSubmission() throws Exception {
        // OneKYC works on it for 6 s; the first poll comes after 3 s
        try (BridgeApp app = BridgeApp.start(dataDir, props("6000"))) {
            // status refuses every call with 400/1541, as for a submission id it does not take
            failWith(app, "status", 400);
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3113.png");

            JsonNode result = awaitOneResult(app);
            // the refusals while the details said IN_PROGRESS did not end it; the details did, once final
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(row.submissionId(), result.path("submissionId").asText());
            assertTrue(app.sandbox().requestLog().stream()
                    .filter(c -> "status".equals(c.endpoint()) && c.httpStatus() == 400).count() >= 2,
                    "status refused more than once before the details were final");
            // each refusal counted as a poll, so the next came after a longer back-off
            assertTrue(app.ledger().findById(row.id()).orElseThrow().pollAttempts() >= 2);
        }
    }

    @Test
    void withStatusPollingOffAStatusRefusalIsOneLookNotOneEveryTick() throws Exception {
        // OneKYC finishes long after the look (at 3 s, then its details say IN_PROGRESS)
        Map<String, String> p = props("10000");
        p.put("gtf.sandbox.callback.enabled", "true");
        p.put("ktp.poll.enabled", "false");
        p.put("ktp.poll.reconfirm-after", "1s");
        p.put("ktp.poll.deadline", "10m");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            failWith(app, "status", 400);
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3115.png");

            JsonNode result = awaitOneResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText(), result.toString());
            // the look after reconfirm-after, refused, with details IN_PROGRESS: not taken up at every tick
            assertEquals(1, app.sandbox().requestLog().stream().filter(c -> "status".equals(c.endpoint())).count());
            assertEquals(1, app.ledger().findById(row.id()).orElseThrow().pollAttempts());
        }
    }

    @Test
    void aCallbackNotedWhileThePollerAskedTheDetailsAtTheDeadlineDecidesNotTheDeadline() throws Exception {
        Map<String, String> p = nothingDue();
        attemptsWithoutCircuitBreaker(p, 1);
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3116.png");
            awaitFinalAtOneKyc(app, row);
            // the deadline's details call takes 5 s and fails: the callback comes while it is under way
            failWith(app, "details", 503);
            app.sandbox().settings().setLatencyMillis(5000);
            Thread deadline = new Thread(() -> app.bean("collector", Collector.class).timeOut(row, "IN_PROGRESS"));
            deadline.start();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20)).until(
                    () -> app.ledger().findById(row.id()).orElseThrow().state() == SubmissionState.COLLECTING);
            app.bean("callbackReceiver", CallbackReceiver.class).collect(row.submissionId(), null, null, null);
            deadline.join(30_000);
            assertEquals(0, Results.count(app.results()), "no TIMED_OUT over the callback");

            app.sandbox().settings().setLatencyMillis(0);
            app.sandbox().settings().setFailureRate("details", 0.0);
            assertPollCollectsTheCallbacksOutcome(app, row);
        }
    }

    @Test
    void aCallbackNotedJustAfterThePollersLastLookStillDecidesNotTheDeadline() throws Exception {
        Map<String, String> p = nothingDue();
        attemptsWithoutCircuitBreaker(p, 1);
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3117.png");
            awaitFinalAtOneKyc(app, row);
            failWith(app, "details", 503);
            // the callback is noted between the poller's last look for one and the write of its verdict
            Ledger ledger = app.ledger();
            Ledger lateCallback = new Ledger(app.bean("ktpDataSource", javax.sql.DataSource.class)) {
                private boolean looked;

                @Override
                public boolean callbackNoted(String id) {
                    boolean noted = super.callbackNoted(id);
                    if (!looked) {
                        looked = true;
                        ledger.noteCallback(row.submissionId());
                    }
                    return noted;
                }
            };
            Collector collector = collectorOver(app, lateCallback);

            collector.timeOut(row, "IN_PROGRESS");
            assertEquals(0, Results.count(app.results()), "no TIMED_OUT over the callback");
            LedgerRecord after = ledger.findById(row.id()).orElseThrow();
            assertEquals(SubmissionState.CONFIRMED, after.state(), "given back for the callback's details");
            assertNull(after.resultStatus());

            app.sandbox().settings().setFailureRate("details", 0.0);
            assertPollCollectsTheCallbacksOutcome(app, row);
        }
    }

    @Test
    void aStatusRefusedAtTheDeadlineWhileTheDetailsSayInProgressEndsTimedOut() throws Exception {
        Map<String, String> p = props("600000");
        attemptsWithoutCircuitBreaker(p, 1);
        p.put("ktp.poll.first-delay", "300");
        p.put("ktp.poll.deadline", "4s");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            failWith(app, "status", 400);
            dropAndAwaitConfirmed(app, "u3119.png");

            JsonNode result = awaitOneResult(app);
            assertEquals("TIMED_OUT", result.path("status").asText(), result.toString());
            assertEquals("POLL_DEADLINE_EXCEEDED", result.path("reasonCode").asText(), result.toString());
        }
    }

    @Test
    void aStatusDownUntilTheDeadlineLeavesTheOutcomeToTheDetails() throws Exception {
        Map<String, String> p = props("300");
        attemptsWithoutCircuitBreaker(p, 1);
        p.put("ktp.poll.first-delay", "300");
        p.put("ktp.poll.deadline", "4s");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            failWith(app, "status", 503);
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3114.png");

            JsonNode result = awaitOneResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), "not TIMED_OUT: " + result);
            assertEquals(row.submissionId(), result.path("submissionId").asText());
            assertTrue(app.sandbox().requestLog().stream().filter(c -> "status".equals(c.endpoint()))
                    .allMatch(c -> c.httpStatus() == 503), "status never answered");
        }
    }

    @Test
    void detailsRefusedOnceAfterAFinalStatusAreAskedAgain() throws Exception {
        Map<String, String> p = props("300");
        attemptsWithoutCircuitBreaker(p, 1);
        // the next try comes 5 s later at the soonest: ample time to let the details through again
        p.put("ktp.poll.initial-backoff", "5s");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            failWith(app, "details", 400);
            dropAndAwaitConfirmed(app, "u3117.png");
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                    .until(() -> app.sandbox().injectedFailures("details") >= 1);
            app.sandbox().settings().setFailureRate("details", 0.0);

            JsonNode result = awaitOneResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(1, app.sandbox().injectedFailures("details"));
        }
    }

    @Test
    void detailsRefusedAtTheDeadlineEndTheSubmissionFailedAtOnce() throws Exception {
        Map<String, String> p = props("300");
        attemptsWithoutCircuitBreaker(p, 1);
        // the first poll is set for 3 s after the confirm, so it comes at the deadline
        p.put("ktp.poll.deadline", "2s");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            failWith(app, "details", 400);
            dropAndAwaitConfirmed(app, "u3120.png");

            JsonNode result = awaitOneResult(app);
            assertEquals("FAILED", result.path("status").asText(), "the refusal, not TIMED_OUT: " + result);
            assertEquals("GTF_DETAILS_FAILED", result.path("reasonCode").asText(), result.toString());
            assertEquals(1, app.sandbox().injectedFailures("details"));
        }
    }

    @Test
    void detailsRefusedThreeTimesInARowEndTheSubmissionFailed() throws Exception {
        Map<String, String> p = props("300");
        attemptsWithoutCircuitBreaker(p, 1);
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            failWith(app, "details", 400);
            dropAndAwaitConfirmed(app, "u3118.png");

            JsonNode result = awaitOneResult(app);
            assertEquals("FAILED", result.path("status").asText(), result.toString());
            assertEquals("GTF_DETAILS_FAILED", result.path("reasonCode").asText(), result.toString());
            assertEquals(Collector.DETAILS_REFUSALS_TO_END, app.sandbox().injectedFailures("details"));
        }
    }

    @Test
    void aStatusThatDoesNotKnowTheSubmissionForAWhileAfterItsConfirmIsAskedAgain() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props("300"))) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3104.png");
            // a lookup lagging behind OneKYC's store: status answers 404/1543 for a while
            String unknown = UUID.randomUUID().toString();
            rewrite(app, "submission_id", unknown, row.id());
            await().atMost(Duration.ofSeconds(20)).until(() -> notFoundAnswers(app, unknown) >= 2);
            rewrite(app, "submission_id", row.submissionId(), row.id());

            JsonNode result = awaitOneResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals(row.submissionId(), result.path("submissionId").asText());
        }
    }

    @Test
    void doesNotExistEndsASubmissionFromStatusAfterTheGraceAndFromDetailsNever() {
        Collector collector = new Collector(null, null, null, Duration.ofSeconds(1), 1, Duration.ofMillis(1));
        collector.notFoundGrace(Duration.ofMinutes(2));
        long confirmedAt = 1_000_000L;
        LedgerRecord r = new LedgerRecord("l1", "file", "ref", "u1.png", "sha", 1L, "image/png", "P", "u1",
                "PARTNER_USER_ID", "ps", "sdk", "s1", SubmissionState.CONFIRMED, null, null, null, null, null, 0,
                null, null, confirmedAt, null, null, null, null, confirmedAt);
        GtfApiException statusNotFound = new GtfApiException("status", 404, "1543", "SUBMISSION_DOES_NOT_EXIST");
        GtfApiException detailsNotFound = new GtfApiException("details", 400, "1552", "SUBMISSION_DOES_NOT_EXIST");
        GtfApiException foreignSession = new GtfApiException("details", 400, "1553",
                "PARTNER_SESSION_ID_DOES_NOT_BELONG_TO_THE_USER");
        assertFalse(collector.endsNow(r, statusNotFound, "status", confirmedAt + 119_000));
        assertTrue(collector.endsNow(r, statusNotFound, "status", confirmedAt + 120_000));
        assertFalse(collector.endsNow(r, detailsNotFound, "details", confirmedAt + 3_600_000));
        assertTrue(collector.endsNow(r, foreignSession, "details", confirmedAt + 1));
        assertFalse(collector.endsNow(r, new GtfApiException("status", 503, "903", "SERVICE_UNAVAILABLE"), "status",
                confirmedAt + 3_600_000));
    }

    private static long notFoundAnswers(BridgeApp app, String submissionId) {
        return app.sandbox().requestLog().stream()
                .filter(c -> "status".equals(c.endpoint()) && c.httpStatus() == 404
                        && submissionId.equals(c.submissionId()))
                .count();
    }

    @Test
    void detailsRefusingThePartnerSessionAreAskedBySubmissionIdAlone() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props("300"))) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3102.png");
            // as for a submission OneKYC handed out again, which knows another partner session:
            // status still answers (it does not check the session); details with it answer 400/1553
            rewrite(app, "partner_session_id", UUID.randomUUID().toString(), row.id());

            JsonNode result = awaitOneResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertTrue(app.sandbox().requestLog().stream().anyMatch(c -> "details".equals(c.endpoint())
                    && c.httpStatus() == 400), "the session was refused first");
        }
    }

    @Test
    void detailsThatStayUnavailableEndAsTimedOutAtTheDeadline() throws Exception {
        Map<String, String> p = props("300");
        p.put("ktp.poll.deadline", "3s");
        attemptsWithoutCircuitBreaker(p, 2);
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            failWith(app, "details", 500);
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3103.png");

            JsonNode result = awaitOneResult(app);
            assertEquals("TIMED_OUT", result.path("status").asText());
            assertEquals("POLL_DEADLINE_EXCEEDED", result.path("reasonCode").asText());
            assertTrue(result.path("errorMessage").asText().contains("details not available"), result.toString());
            assertTrue(result.path("receivedVia").isNull(), "decided here, not received: " + result);
            assertTrue(app.sandbox().injectedFailures("details") >= 2, "details were asked, and refused, more than once");
            assertEquals(row.submissionId(), result.path("submissionId").asText());
        }
    }

    @Test
    void anErrorCallbackWhoseDetailsStayUnavailableEndsAsTheCallbackSaidAtTheDeadline() throws Exception {
        Map<String, String> p = props("300");
        // long enough for the callback to come first on a loaded machine
        p.put("ktp.poll.deadline", "10s");
        p.put("ktp.callback.auth-token", "token-3120");
        attemptsWithoutCircuitBreaker(p, 2);
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            failWith(app, "details", 500);
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3120.png");
            var answer = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            java.net.URI.create(app.callbackUrl()))
                    .header("Authorization", "Bearer token-3120").header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"submissionId\":\"" + row.submissionId()
                            + "\",\"status\":\"ERROR\",\"result\":null,\"reasonCode\":\"VERIFICATION_FAILED\"}"))
                    .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, answer.statusCode());

            JsonNode result = awaitOneResult(app);
            // OneKYC's word, not a TIMED_OUT of the bundle's own
            assertEquals("ERROR", result.path("status").asText(), result.toString());
            assertEquals("VERIFICATION_FAILED", result.path("reasonCode").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText(), result.toString());
            assertTrue(result.path("errorMessage").asText().contains("details not available"), result.toString());
            assertEquals(row.submissionId(), result.path("submissionId").asText());
            assertTrue(app.sandbox().injectedFailures("details") >= 2, "the details were asked first");
        }
    }

    @Test
    void anErrorCallbackNotedJustAfterTheCollectorLookedForOneStillDecidesNotTheDeadline() throws Exception {
        Map<String, String> p = nothingDue();
        attemptsWithoutCircuitBreaker(p, 1);
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3121.png");
            rewrite(app, "deadline_at", "1", row.id());
            failWith(app, "details", 503);
            // the ERROR callback is noted between the collector's look for one and its TIMED_OUT's write
            Ledger ledger = app.ledger();
            Ledger lateCallback = new Ledger(app.bean("ktpDataSource", javax.sql.DataSource.class)) {
                private boolean looked;

                @Override
                public java.util.Optional<String> callbackError(String id) {
                    java.util.Optional<String> noted = super.callbackError(id);
                    if (!looked) {
                        looked = true;
                        ledger.noteCallback(row.submissionId(), "VERIFICATION_FAILED");
                    }
                    return noted;
                }
            };
            Collector collector = collectorOver(app, lateCallback);

            assertTrue(collector.collect(ledger.findById(row.id()).orElseThrow(), "poll"));
            JsonNode result = awaitOneResult(app);
            assertEquals("ERROR", result.path("status").asText(), result.toString());
            assertEquals("VERIFICATION_FAILED", result.path("reasonCode").asText(), result.toString());
        }
    }

    @Test
    void detailsThatSayCompletedWithoutAResultAreAskedAgainUntilTheyHaveOne() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props("300"))) {
            app.sandbox().settings().setDetailsWithoutVerdict(true);
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3106.png");
            await().atMost(Duration.ofSeconds(30)).until(() -> detailsAnswers(app, row.submissionId()) >= 2);
            assertEquals(0, Results.count(app.results()), "no result without a verdict");

            app.sandbox().settings().setDetailsWithoutVerdict(false);
            JsonNode result = awaitOneResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("VALID", result.path("result").asText(), result.toString());
        }
    }

    @Test
    void detailsOfAnotherSubmissionAreNeverPublishedAsThisOnesResult() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, props("300"))) {
            LedgerRecord first = dropAndAwaitConfirmed(app, "u3108.png");
            String firstNik = awaitOneResult(app).path("submissionDetails").path("ktpData").path("nik").asText();
            // from now on details describe u3108's submission whatever is asked for
            app.sandbox().settings().setDetailsMixedUp(true);
            LedgerRecord second = app.ledger().findById(dropAndAwaitConfirmed(app, "u3109.png").id()).orElseThrow();
            await().atMost(Duration.ofSeconds(30)).until(() -> detailsAnswers(app, second.submissionId()) >= 2);
            assertEquals(1, Results.count(app.results()), "no result from another submission's record");

            app.sandbox().settings().setDetailsMixedUp(false);
            await().atMost(Duration.ofSeconds(30)).until(() -> Results.count(app.results()) == 2);
            JsonNode result = Results.bySourceFile(app.results()).get("u3109.png");
            assertEquals(second.submissionId(), result.path("submissionId").asText());
            String nik = result.path("submissionDetails").path("ktpData").path("nik").asText();
            assertFalse(nik.isEmpty() || nik.equals(firstNik), "its own OCR data, not u3108's: " + result);
            assertFalse(first.submissionId().equals(second.submissionId()));
        }
    }

    @Test
    void detailsStillWithoutAResultAtTheDeadlineArePublishedAsTheyAre() throws Exception {
        Map<String, String> p = props("300");
        // first look 3 s after the confirm, again 2 s later, the last one at the deadline
        p.put("ktp.poll.deadline", "9s");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            app.sandbox().settings().setDetailsWithoutVerdict(true);
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3107.png");

            JsonNode result = awaitOneResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertTrue(result.path("result").isNull(), result.toString());
            assertFalse(result.path("submissionDetails").path("ktpData").isMissingNode(),
                    "the OCR data OneKYC sent is kept: " + result);
            assertTrue(detailsAnswers(app, row.submissionId()) >= 2, "asked again before the deadline");
        }
    }

    @Test
    void withTheResultNotRequiredCompletedDetailsArePublishedAtOnce() throws Exception {
        Map<String, String> p = props("300");
        p.put("gtf.details.require-result", "false");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            app.sandbox().settings().setDetailsWithoutVerdict(true);
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3108.png");

            JsonNode result = awaitOneResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertTrue(result.path("result").isNull(), result.toString());
            assertEquals(1, detailsAnswers(app, row.submissionId()));
        }
    }

    private static long detailsAnswers(BridgeApp app, String submissionId) {
        return app.sandbox().requestLog().stream()
                .filter(c -> "details".equals(c.endpoint()) && c.httpStatus() == 200 && submissionId.equals(c.submissionId()))
                .count();
    }

    @Test
    void aStatusThrottledWithALongRetryAfterIsNotAskedAgainBeforeThen() throws Exception {
        Map<String, String> p = props("600000");
        attemptsWithoutCircuitBreaker(p, 1);
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3109.png");
            app.sandbox().settings().setRetryAfterSeconds(120);
            failWith(app, "status", 429);
            long before = System.currentTimeMillis();
            await().atMost(Duration.ofSeconds(20)).until(() -> app.sandbox().requestLog().stream()
                    .anyMatch(c -> "status".equals(c.endpoint()) && c.httpStatus() == 429));
            await().atMost(Duration.ofSeconds(5)).until(() -> app.ledger().findById(row.id()).orElseThrow()
                    .pollAttempts() >= 1);
            long nextPoll = app.ledger().findById(row.id()).orElseThrow().nextPollAt();
            assertTrue(nextPoll >= before + 119_000, "next poll " + (nextPoll - before) + " ms after the throttle");

            // ticks go on meanwhile (ktp.poll.interval 1 s): a tick runs its polls before the next
            // one starts, so those that began after the throttle would have asked again by now
            MeterRegistry meters = app.bean("metricsRegistry", MeterRegistry.class);
            double ticks = pollTicks(meters);
            await().atMost(Duration.ofSeconds(30)).until(() -> pollTicks(meters) >= ticks + 3);
            // the only submission there is (a refused call is logged without its submission id)
            assertEquals(1, app.sandbox().requestLog().stream().filter(c -> "status".equals(c.endpoint())).count(),
                    "status asked once, the throttled time, and not again before the Retry-After is over");
            assertEquals(1, app.ledger().findById(row.id()).orElseThrow().pollAttempts());
        }
    }

    private static double pollTicks(MeterRegistry meters) {
        return meters.get("ktp_poll_ticks").counter().count();
    }

    @Test
    void aSubmissionThatNeverEndsTimesOutAtItsDeadlineNotABackOffLater() throws Exception {
        Map<String, String> p = props("600000");
        // the first look 0.3 s after the confirm; its back-off (30 s) reaches past the deadline (6 s)
        p.put("ktp.poll.first-delay", "300");
        p.put("ktp.poll.initial-backoff", "30s");
        p.put("ktp.poll.max-backoff", "60s");
        p.put("ktp.poll.deadline", "6s");
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3105.png");
            JsonNode result = awaitOneResult(app);
            assertEquals("TIMED_OUT", result.path("status").asText(), result.toString());
            LedgerRecord ended = app.ledger().findById(row.id()).orElseThrow();
            // as the ledger recorded it: one look, the next set for the deadline rather than a back-off
            // later, and that one ended it
            assertEquals(1, ended.pollAttempts(), ended.toString());
            assertEquals(ended.deadlineAt(), ended.nextPollAt(), "the last look was set for the deadline");
            assertTrue(ended.completedAt() >= ended.deadlineAt(), "not ended before its deadline");
            assertEquals(2, app.sandbox().requestLog().stream()
                    .filter(c -> "status".equals(c.endpoint()) && row.submissionId().equals(c.submissionId())).count(),
                    "status asked at the first look and at the deadline only");
        }
    }

    @Test
    void detailsNotReadyAreAskedAgainSoonAtFirstAndLessOftenTheLongerTheyStaySo() {
        Collector collector = new Collector(null, null, null, Duration.ofSeconds(2), 1, Duration.ofMillis(1));
        collector.maxRetryDelay(Duration.ofSeconds(30));
        assertEquals(2_000, collector.retryWait(500), "a moment after the outcome was announced");
        assertEquals(15_000, collector.retryWait(60_000));
        assertEquals(30_000, collector.retryWait(20 * 60_000), "never longer than ktp.poll.max-backoff");
    }

    @Test
    void onlyAnEndpointsOwnEnveloped4xxOtherThan401Or403EndsASubmission() {
        assertTrue(Collector.refusedForGood(new GtfApiException("status", 404, "1543", "SUBMISSION_DOES_NOT_EXIST"),
                "status"));
        assertTrue(Collector.refusedForGood(new GtfApiException("details", 400, "1552", "SUBMISSION_DOES_NOT_EXIST"),
                "details"));
        for (GtfApiException retried : new GtfApiException[] {
                new GtfApiException("details", 401, "1539", "UNAUTHORIZED"),
                new GtfApiException("details", 403, "903", "FORBIDDEN"),
                new GtfApiException("details", 500, "900", "GENERIC_SERVICE_ERROR"),
                new GtfApiException("details", 429, "429", "TOO_MANY_REQUESTS"),
                new GtfApiException("user-token", 400, "1539", "MISSING_CLIENT_ID_OR_PASS_KEY"),
                // a gateway's or proxy's own answer, without OneKYC's envelope
                new GtfApiException("details", 404, null, null),
                new GtfApiException("details", 408, null, null),
                new GtfApiException("details", "HttpTimeoutException", null),
                // never sent (a header value HTTP does not allow): OneKYC has not refused anything
                GtfApiException.unsendable("details", "a request header value is not valid in HTTP")}) {
            assertFalse(Collector.refusedForGood(retried, "details"), retried.getMessage());
        }
    }

    @Test
    void aCollectorWhoseClaimWasTakenOverMeanwhileDoesNotEndTheSubmissionItself() throws Exception {
        Map<String, String> p = props("600000");
        p.put("ktp.poll.enabled", "false");
        attemptsWithoutCircuitBreaker(p, 1);
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3110.png");
            // past its deadline, and its details unavailable: a collector would end it TIMED_OUT
            rewrite(app, "deadline_at", "1", row.id());
            LedgerRecord due = app.ledger().findById(row.id()).orElseThrow();
            failWith(app, "details", 503);
            app.sandbox().settings().setLatencyMillis(3000);

            Collector slow = app.bean("collector", Collector.class);
            var collecting = java.util.concurrent.CompletableFuture.supplyAsync(() -> slow.collect(due, "poll"));
            // while its details call hangs, its claim is released as stale and another collector takes it
            await().atMost(Duration.ofSeconds(5)).until(
                    () -> app.ledger().findById(row.id()).orElseThrow().state() == SubmissionState.COLLECTING);
            Thread.sleep(200);
            assertEquals(1, app.ledger().releaseStaleClaims(System.currentTimeMillis()));
            assertTrue(app.ledger().claim(row.id(), "callback") > 0);

            assertFalse(collecting.get(20, java.util.concurrent.TimeUnit.SECONDS), "it ended nothing");
            await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(11))
                    .until(() -> Results.count(app.results()) == 0);
            LedgerRecord after = app.ledger().findById(row.id()).orElseThrow();
            assertEquals(SubmissionState.COLLECTING, after.state(), "still the other collector's");
            assertEquals("callback", after.receivedVia());
        }
    }

    @Test
    void anOutcomeACallbackAnnouncedIsAskedOfDetailsAgainWhileStatusIsDown() throws Exception {
        Map<String, String> p = new HashMap<>();
        p.put("ktp.poll.first-delay", "500");
        p.put("ktp.poll.deadline", "20s");
        attemptsWithoutCircuitBreaker(p, 1);
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            // status polling on (the default); the status endpoint is down throughout, and details
            // are away when the callback comes
            failWith(app, "status", 503);
            app.sandbox().settings().setFailureRate("details", 1.0);
            Results.drop(app.inbox(), "u3131.png", SampleImages.card("u3131", "png"));
            await().atMost(Duration.ofSeconds(15)).until(() -> app.ledger().createdSince(0).stream()
                    .anyMatch(r -> r.callbackAt() != null && r.state() == SubmissionState.CONFIRMED));
            app.sandbox().settings().setFailureRate("details", 0.0);

            JsonNode result = awaitOneResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), result.toString());
            assertEquals("callback", result.path("receivedVia").asText(), result.toString());
        }
    }

    @Test
    void aStatusRefusalTheTickMetAfterACallbackNamedTheSubmissionFinalDoesNotEndIt() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, nothingDue())) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3111.png");
            awaitFinalAtOneKyc(app, row);
            // a store lagging behind the callback: status and details do not know the submission yet
            String lagging = UUID.randomUUID().toString();
            rewrite(app, "submission_id", lagging, row.id());
            rewrite(app, "submitted_at", "1", row.id()); // past ktp.poll.not-found-grace
            // the tick reads the row before the callback comes
            LedgerRecord readByTick = app.ledger().findById(row.id()).orElseThrow();

            // the callback's collection: details answer "does not exist", the claim is given back
            app.bean("callbackReceiver", CallbackReceiver.class).collect(lagging, null, null, null);
            LedgerRecord announced = app.ledger().findById(row.id()).orElseThrow();
            assertEquals(SubmissionState.CONFIRMED, announced.state());
            assertTrue(announced.callbackAt() != null);
            assertEquals(1, refusedDetails(app));

            // the tick's status call, with its copy: 404 past the grace
            app.bean("poller", Poller.class).pollOne(readByTick);
            assertEquals(1, notFoundAnswers(app, lagging));
            assertEquals(0, Results.count(app.results()), "not ended on \"does not exist\"");
            assertEquals(2, refusedDetails(app), "details asked instead");
            assertEquals(SubmissionState.CONFIRMED, app.ledger().findById(row.id()).orElseThrow().state());

            // once the store knows it, its details are the result
            rewrite(app, "submission_id", row.submissionId(), row.id());
            assertPollCollectsTheCallbacksOutcome(app, row);
        }
    }

    @Test
    void aDeadlineTheTickMetAfterACallbackNamedTheSubmissionFinalLeavesItToItsDetails() throws Exception {
        Map<String, String> p = nothingDue();
        attemptsWithoutCircuitBreaker(p, 1);
        try (BridgeApp app = BridgeApp.start(dataDir, p)) {
            LedgerRecord row = dropAndAwaitConfirmed(app, "u3112.png");
            awaitFinalAtOneKyc(app, row);
            // the tick reads the row at its deadline, before the callback comes
            rewrite(app, "deadline_at", "1", row.id());
            LedgerRecord readByTick = app.ledger().findById(row.id()).orElseThrow();
            rewrite(app, "deadline_at", String.valueOf(row.deadlineAt()), row.id());

            // the callback's collection, just before the deadline: details away, the claim given back
            failWith(app, "details", 503);
            app.bean("callbackReceiver", CallbackReceiver.class).collect(row.submissionId(), null, null, null);
            assertTrue(app.ledger().findById(row.id()).orElseThrow().callbackAt() != null);
            assertEquals(SubmissionState.CONFIRMED, app.ledger().findById(row.id()).orElseThrow().state());

            // the tick's status call, with its copy: status down, the deadline passed
            app.sandbox().settings().setFailureRate("details", 0.0);
            app.sandbox().settings().setFailureRate("status", 1.0);
            app.bean("poller", Poller.class).pollOne(readByTick);

            JsonNode result = awaitOneResult(app);
            assertEquals("COMPLETED", result.path("status").asText(), "not TIMED_OUT: " + result);
            assertEquals("callback", result.path("receivedVia").asText(), result.toString());
        }
    }

    /** Callbacks off and nothing due for ten minutes: the test runs the tick's and the callback's steps itself. */
    private static Map<String, String> nothingDue() {
        Map<String, String> p = props("300");
        p.put("ktp.poll.first-delay", "600000");
        p.put("ktp.poll.initial-backoff", "10m");
        p.put("ktp.poll.max-backoff", "10m");
        return p;
    }

    /** The next poll of the row collects the outcome a callback announced: COMPLETED, received via the callback. */
    private static void assertPollCollectsTheCallbacksOutcome(BridgeApp app, LedgerRecord row) {
        app.bean("poller", Poller.class).pollOne(app.ledger().findById(row.id()).orElseThrow());
        JsonNode result = awaitOneResult(app);
        assertEquals("COMPLETED", result.path("status").asText(), result.toString());
        assertEquals("callback", result.path("receivedVia").asText(), result.toString());
    }

    /** A collector of the app's client and publisher that reads and claims through {@code ledger}. */
    private static Collector collectorOver(BridgeApp app, Ledger ledger) {
        return new Collector(ledger, app.bean("gtfClient", id.ktpbridge.gtf.GtfClient.class),
                app.bean("resultPublisher", id.ktpbridge.result.ResultPublisher.class), Duration.ofSeconds(1), 1,
                Duration.ofMillis(1));
    }

    /** OneKYC sends a submission's final callback once it has finished it. */
    private static void awaitFinalAtOneKyc(BridgeApp app, LedgerRecord row) {
        await().atMost(Duration.ofSeconds(10)).until(
                () -> "COMPLETED".equals(app.sandbox().submissionStatus(row.submissionId())));
    }

    /** Details that said "does not exist" by the submission id alone (each follows the same answer to both ids). */
    private static long refusedDetails(BridgeApp app) {
        return app.sandbox().requestLog().stream()
                .filter(c -> "details".equals(c.endpoint()) && c.httpStatus() == 400 && c.partnerSessionId() == null)
                .count();
    }

    /** Each OneKYC call tried {@code attempts} times, with a circuit breaker that never opens. */
    private static void attemptsWithoutCircuitBreaker(Map<String, String> p, int attempts) {
        p.put("gtf.retry.max-attempts", String.valueOf(attempts));
        p.put("gtf.circuit-breaker.failure-threshold", "1000");
    }

    /** Every call of the sandbox's {@code endpoint} answers {@code status} from now on. */
    private static void failWith(BridgeApp app, String endpoint, int status) {
        app.sandbox().settings().setFailureStatuses(List.of(status));
        app.sandbox().settings().setFailureRate(endpoint, 1.0);
    }

    /** Callbacks off, so the poller meets the refusal; the first poll waits until the test has set the stage. */
    private static Map<String, String> props(String processingDelayMillis) {
        Map<String, String> p = new HashMap<>();
        p.put("gtf.sandbox.callback.enabled", "false");
        p.put("gtf.sandbox.processing-delay", processingDelayMillis);
        p.put("ktp.poll.first-delay", "3000");
        return p;
    }

    /** Drops an image and waits until its submission is confirmed in the ledger (also used by CallbackLedgerRetryTest). */
    static LedgerRecord dropAndAwaitConfirmed(BridgeApp app, String name) throws Exception {
        Results.drop(app.inbox(), name, SampleImages.card(name, "png"));
        return await().atMost(Duration.ofSeconds(20)).until(
                () -> app.ledger().createdSince(0).stream().filter(r -> r.state() == SubmissionState.CONFIRMED)
                        .findFirst().orElse(null),
                r -> r != null);
    }

    private static void rewrite(BridgeApp app, String column, String value, String ledgerId) throws Exception {
        try (Connection c = app.ledger().dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("UPDATE ktp_submission SET " + column + " = ? WHERE id = ?")) {
            ps.setString(1, value);
            ps.setString(2, ledgerId);
            assertEquals(1, ps.executeUpdate());
        }
    }

    private static JsonNode awaitOneResult(BridgeApp app) {
        await().atMost(Duration.ofSeconds(20)).until(() -> Results.count(app.results()) == 1);
        await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(5))
                .until(() -> Results.count(app.results()) == 1);
        return Results.read(app.results()).get(0);
    }
}
