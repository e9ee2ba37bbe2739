package id.ktpbridge.testkit;

import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import id.ktpbridge.sandbox.ApiCall;

/**
 * Counts over the sandbox's request log, which sees a call made again where the sandbox's state
 * does not: a submission is confirmed once whatever number of confirms it gets, and a result
 * collected twice is the same document. A call the sandbox refused by fault injection names no
 * submission (it is refused before it is read), so it is not counted here.
 */
public final class ApiCalls {

    private ApiCalls() {
    }

    /** Details calls for the submission that were answered 200: one per collection of its outcome. */
    public static long detailsAnswered(List<ApiCall> log, String submissionId) {
        return log.stream().filter(c -> c.endpoint().equals("details") && c.httpStatus() == 200
                && submissionId.equals(c.submissionId())).count();
    }

    /** The statuses the submission's confirm requests were answered with, in order. */
    public static List<Integer> confirmAnswers(List<ApiCall> log, String submissionId) {
        return log.stream().filter(c -> c.endpoint().equals("confirm") && submissionId.equals(c.submissionId()))
                .map(ApiCall::httpStatus).toList();
    }

    /**
     * Submissions confirmed again within {@code calls} after a confirm of theirs there was answered
     * 200 or 409: the client then knows it is confirmed, and only a process that did not live to
     * record that (a kill) may confirm it again. A confirm whose answer was lost (500) may be sent again.
     */
    public static Set<String> confirmedAgainAfterAnAnswer(List<ApiCall> calls) {
        Set<String> answered = new HashSet<>();
        Set<String> again = new LinkedHashSet<>();
        for (ApiCall c : calls) {
            if (!c.endpoint().equals("confirm") || c.submissionId() == null) {
                continue;
            }
            if (answered.contains(c.submissionId())) {
                again.add(c.submissionId());
            }
            if (c.httpStatus() == 200 || c.httpStatus() == 409) {
                answered.add(c.submissionId());
            }
        }
        return again;
    }
}
