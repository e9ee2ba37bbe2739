package id.ktpbridge.sandbox;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/** In-memory submissions by id, remembering creation order for the inspection hooks. */
final class SubmissionStore {

    private final Map<String, Submission> byId = new ConcurrentHashMap<>();
    private final Queue<Submission> inOrder = new ConcurrentLinkedQueue<>();
    private final AtomicLong reused = new AtomicLong();

    void add(Submission submission) {
        byId.put(submission.id(), submission);
        inOrder.add(submission);
    }

    Submission get(String id) {
        return id == null ? null : byId.get(id);
    }

    /**
     * Latest submission created under a partner session id. When the caller is a user,
     * that user's own submissions are preferred so another user's reuse of a session id
     * does not shadow them.
     */
    Submission latestByPartnerSession(String partnerSessionId, UserKey preferredOwner) {
        Submission latest = null;
        Submission latestOwned = null;
        for (Submission s : inOrder) {
            if (partnerSessionId.equals(s.partnerSessionId())) {
                latest = s;
                if (s.owner().equals(preferredOwner)) {
                    latestOwned = s;
                }
            }
        }
        return latestOwned != null ? latestOwned : latest;
    }

    /** The user's latest submission still waiting for upload and confirm (counted as handed out again), or null. */
    Submission reuseInitiated(UserKey owner) {
        Submission latest = null;
        for (Submission s : inOrder) {
            if (s.owner().equals(owner) && s.status() == Submission.Status.INITIATED) {
                latest = s;
            }
        }
        if (latest != null) {
            reused.incrementAndGet();
        }
        return latest;
    }

    /** The latest finished submission other than {@code id}, or null. */
    Submission otherFinished(String id) {
        Submission latest = null;
        for (Submission s : inOrder) {
            if (!s.id().equals(id) && s.outcome() != null) {
                latest = s;
            }
        }
        return latest;
    }

    /** Presigns answered with an existing submission. */
    long reusedCount() {
        return reused.get();
    }

    List<String> ids() {
        List<String> ids = new ArrayList<>();
        inOrder.forEach(s -> ids.add(s.id()));
        return ids;
    }

    int size() {
        return byId.size();
    }
}
