package id.ktpbridge.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Function;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Simulates GTF's asynchronous processing: after a delay a confirmed submission becomes final. */
final class SubmissionProcessor {

    private static final Logger LOG = LoggerFactory.getLogger(SubmissionProcessor.class);

    private final SandboxSettings settings;
    private final ScheduledExecutorService scheduler;
    private final CallbackSender callbacks;
    private final FaultInjector faults;
    private volatile Function<Submission, JsonNode> fullRecords;

    SubmissionProcessor(SandboxSettings settings, ScheduledExecutorService scheduler, CallbackSender callbacks,
                        FaultInjector faults) {
        this.settings = settings;
        this.scheduler = scheduler;
        this.callbacks = callbacks;
        this.faults = faults;
    }

    /** How a full-record callback renders a submission: the details call's {@code data}. */
    void fullRecordsFrom(Function<Submission, JsonNode> renderer) {
        this.fullRecords = renderer;
    }

    void process(Submission submission) {
        try {
            scheduler.schedule(() -> finish(submission), Math.max(0, settings.getProcessingDelayMillis()),
                    TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("Sandbox stopped; submission {} stays IN_PROGRESS", submission.id());
        }
    }

    private void finish(Submission submission) {
        Outcome outcome = Outcome.forUser(submission.owner().partnerUserId(), settings);
        submission.finish(outcome);
        LOG.info("Sandbox submission {} finished: {} {}", submission.id(), outcome.status(), outcome.reasonCode());

        String url = settings.getCallbackUrl();
        if (settings.isCallbackEnabled() && url != null && !url.isBlank()) {
            if (faults.dropCallback()) {
                // lost for good, duplicates included: the partner must fall back to polling
                LOG.info("Sandbox callback for submission {} dropped by fault injection", submission.id());
                return;
            }
            JsonNode body = settings.isCallbackFullRecord() && fullRecords != null
                    ? fullRecords.apply(submission) : notification(submission, outcome);
            callbacks.send(new CallbackSender.Delivery(url, settings.getCallbackAuthorization(), body.toString(),
                    submission.id(), settings.getCallbackDuplicates(), settings.getCallbackMaxAttempts(),
                    settings.getCallbackLateMillis()));
        }
    }

    private static JsonNode notification(Submission submission, Outcome outcome) {
        ObjectNode body = SandboxCore.JSON.createObjectNode();
        body.put("submissionId", submission.id());
        body.put("status", outcome.status());
        body.put("result", outcome.result());
        // the callback example shows null (not "") for a valid result
        body.put("reasonCode", outcome == Outcome.VALID ? null : outcome.reasonCode());
        return body;
    }
}
