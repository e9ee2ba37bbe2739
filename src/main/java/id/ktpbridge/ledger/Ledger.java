package id.ktpbridge.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

import javax.sql.DataSource;

/**
 * The durable record of every input and submission. Transitions are conditional updates on the
 * current state, so two collectors (poller and callback, or two instances) can never both own
 * the same outcome.
 */
public class Ledger {

    private static final String COLUMNS = "id, source_type, source_ref, source_file, source_sha256, source_size,"
            + " content_type, onboarding_partner, partner_user_id, partner_user_id_type, partner_session_id,"
            + " sdk_session_id, submission_id, state, reason_code, error_message, confirm_metadata, callback_at,"
            + " received_via, poll_attempts, next_poll_at, deadline_at, submitted_at, completed_at, result_status,"
            + " result, delivered_at, created_at";

    private final DataSource dataSource;
    private final DurableFlush flush;

    public Ledger(DataSource dataSource) {
        this.dataSource = dataSource;
        this.flush = DurableFlush.of(dataSource);
    }

    /**
     * Makes every write committed so far durable before the caller takes its next external step
     * (confirm at OneKYC, moving the source file, delivering a result). Concurrent callers share
     * one write; on a database whose commits are durable by themselves this returns at once.
     */
    public void flush() {
        flush.flush();
    }

    /**
     * For writes made on the ledger's database outside this class (the JDBC target's row in the
     * ledger's own database): counted with the ledger's writes and flushed in the same group, so one
     * checkpoint covers both, and a write H2 dropped when it closed the database is a
     * {@linkplain LedgerException#isStoreFailure store failure} here too.
     */
    public WriteFlush writesMadeElsewhere() {
        return flush.eachWrite();
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** As {@link #insert}, leaving a row of that id alone: a retried intake finds the one it wrote. */
    public void insertIfAbsent(NewInput in, SubmissionState state) {
        if (findById(in.id()).isEmpty()) {
            insert(in, state);
        }
    }

    public void insert(NewInput in, SubmissionState state) {
        long now = System.currentTimeMillis();
        update("INSERT INTO ktp_submission (id, source_type, source_ref, source_file, source_sha256, source_size,"
                        + " content_type, onboarding_partner, partner_user_id, partner_user_id_type, partner_session_id,"
                        + " sdk_session_id, confirm_metadata, state, created_at, updated_at)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                in.id(), in.sourceType(), in.sourceRef(), in.sourceFile(), in.sourceSha256(), in.sourceSize(),
                in.contentType(), in.onboardingPartner(), in.partnerUserId(), in.partnerUserIdType(),
                in.partnerSessionId(), in.sdkSessionId(), in.confirmMetadata(), state.name(), now, now);
    }

    /**
     * The indexed end of a source reference ({@code source_ref_tail}, schema 14), of the parameter,
     * computed by the database as it computes the column, which it generates for every row: H2
     * counts characters in UTF-16 units, PostgreSQL in code points. source_ref itself, 2,048
     * characters, is past what a PostgreSQL index entry takes.
     */
    private static final String REF_TAIL = "RIGHT(?, 255)";

    /**
     * The rows of one source reference (the parameter, twice): found through the index on its end,
     * told apart by the whole of it. Without it each look-up read the whole table.
     */
    private static final String AT_REF = "source_ref_tail = " + REF_TAIL + " AND source_ref = ?";

    /** The stored upload URL of a presigned submission and its expiry (epoch ms), if any. */
    public record StoredUpload(String url, long expiresAt) {

        @Override
        public String toString() {
            return "StoredUpload[expiresAt=" + expiresAt + "]";
        }
    }

    public Optional<StoredUpload> storedUpload(String id) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT upload_url, upload_url_expires_at FROM ktp_submission WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getString(1) != null) {
                    return Optional.of(new StoredUpload(rs.getString(1), rs.getLong(2)));
                }
                return Optional.empty();
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * The row of an input its source has not let go of yet, met again: the same reference and the
     * same bytes, after a stop or a crash before the source moved it (or taken up by another
     * instance of a cluster), or after a quarantine move the source refused. It is resumed,
     * skipped or quarantined again, never taken as a new input.
     */
    public Optional<LedgerRecord> findUnreleased(String sourceRef, String sha256) {
        return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE source_sha256 = ? AND source_ref = ?"
                + " AND source_released_at IS NULL ORDER BY created_at DESC", sha256, sourceRef).stream().findFirst();
    }

    /**
     * As {@link #findUnreleased}, for an input rejected before its bytes were read (too large, a
     * symbolic link, unreadable), which has no hash to be known by: the rejected row of the same
     * reference and size its source has not let go of.
     */
    public Optional<LedgerRecord> findUnreleasedUnread(String sourceRef, Long size) {
        return unreleasedAt(sourceRef).stream()
                .filter(r -> r.sourceSha256() == null && r.state() == SubmissionState.REJECTED
                        && Objects.equals(r.sourceSize(), size))
                .max(Comparator.comparingLong(LedgerRecord::createdAt));
    }

    /**
     * Inputs at {@code sourceRef} not confirmed yet (before their upload, or uploaded with their
     * confirm refused for now or not sent) whose source has not let go of them.
     */
    public List<LedgerRecord> findUnconfirmedAt(String sourceRef) {
        return unreleasedAt(sourceRef).stream().filter(r -> r.state() == SubmissionState.RECEIVED
                || r.state() == SubmissionState.PRESIGNED || r.state() == SubmissionState.UPLOADED).toList();
    }

    /**
     * Inputs at {@code sourceRef} whose bytes were read (they have a hash), in any state, whose
     * source has not let go of them: on their way, or submitted or ended and not moved yet.
     */
    public List<LedgerRecord> findUnreleasedReadAt(String sourceRef) {
        return unreleasedAt(sourceRef).stream().filter(r -> r.sourceSha256() != null).toList();
    }

    /**
     * The inputs at {@code sourceRef} whose source has not let go of them: a few at most, picked
     * from here by the callers. Only the reference is asked, so that the index on its end is the one
     * the database can read: given the state or the hash too, H2 took the state index (every input
     * in an outage's backlog) or the one on the hash (for an IS NULL, every input rejected unread).
     */
    private List<LedgerRecord> unreleasedAt(String sourceRef) {
        return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE " + AT_REF + " AND source_released_at IS NULL",
                sourceRef, sourceRef);
    }

    /**
     * Inputs before their upload, untouched since {@code updatedBefore}, whose reference has since
     * been taken as a newer input with other bytes: their file was replaced.
     */
    public List<LedgerRecord> findReplacedUntouchedSince(long updatedBefore) {
        return query("SELECT " + COLUMNS + " FROM ktp_submission s WHERE s.source_released_at IS NULL"
                + " AND s.state IN (?, ?) AND s.updated_at < ? AND s.source_sha256 IS NOT NULL AND EXISTS"
                + " (SELECT 1 FROM ktp_submission n WHERE n.source_ref_tail = s.source_ref_tail"
                + " AND n.source_ref = s.source_ref"
                + " AND n.created_at > s.created_at AND n.source_sha256 IS NOT NULL"
                + " AND n.source_sha256 <> s.source_sha256)",
                SubmissionState.RECEIVED.name(), SubmissionState.PRESIGNED.name(), updatedBefore);
    }

    /**
     * File drop inputs not confirmed yet whose source has not let go of them, untouched since
     * {@code updatedBefore}: the ones whose file may have left the drop folder meanwhile.
     */
    public List<LedgerRecord> findUnconfirmedFilesUntouchedSince(long updatedBefore) {
        return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE source_type = ? AND source_released_at IS NULL"
                + " AND state IN (?, ?, ?) AND updated_at < ?", "file", SubmissionState.RECEIVED.name(),
                SubmissionState.PRESIGNED.name(), SubmissionState.UPLOADED.name(), updatedBefore);
    }

    /**
     * Inputs of {@code sourceType} not confirmed yet whose source has not let go of them, untouched
     * since {@code updatedBefore}: the ones whose file or object may have left their SFTP server or
     * S3 bucket meanwhile. At most {@code limit}, in the order taken from after the row taken at
     * {@code afterCreatedAt} with id {@code afterId} (a page at a time: ones still there would
     * otherwise fill every page). The state index finds the open rows, few beside the ended ones.
     */
    public List<LedgerRecord> findUnconfirmedUntouchedSince(String sourceType, long updatedBefore, long afterCreatedAt,
                                                            String afterId, int limit) {
        return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE state IN (?, ?, ?) AND source_type = ?"
                + " AND source_released_at IS NULL AND updated_at < ? AND (created_at > ? OR created_at = ? AND id > ?)"
                + " ORDER BY created_at, id FETCH FIRST " + limit + " ROWS ONLY", SubmissionState.RECEIVED.name(),
                SubmissionState.PRESIGNED.name(), SubmissionState.UPLOADED.name(), sourceType, updatedBefore,
                afterCreatedAt, afterCreatedAt, afterId);
    }

    /**
     * Inputs not confirmed yet whose source has not let go of them, taken before {@code createdBefore}
     * and untouched since {@code updatedBefore}, that no worker holds at {@code now} (see
     * InputsInHand): those an earlier process or another instance left waiting.
     */
    public List<LedgerRecord> findUnconfirmedLeftAlone(long createdBefore, long updatedBefore, long now) {
        return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE source_released_at IS NULL"
                + " AND state IN (?, ?, ?) AND created_at < ? AND updated_at < ?"
                + " AND (worker IS NULL OR worker_until IS NULL OR worker_until < ?)", SubmissionState.RECEIVED.name(),
                SubmissionState.PRESIGNED.name(), SubmissionState.UPLOADED.name(), createdBefore, updatedBefore, now);
    }

    /** How many of the rows {@code ids} are not in a final state yet. */
    public int countOpenAmong(List<String> ids) {
        int open = 0;
        for (int from = 0; from < ids.size(); from += 500) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 500));
            try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                    "SELECT COUNT(*) FROM ktp_submission WHERE id IN (" + placeholders(chunk.size()) + ") AND state IN ("
                            + placeholders(OPEN_STATES.size()) + ")")) {
                int i = 1;
                for (String id : chunk) {
                    ps.setString(i++, id);
                }
                for (SubmissionState state : OPEN_STATES) {
                    ps.setString(i++, state.name());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    open += rs.getInt(1);
                }
            } catch (SQLException e) {
                throw new LedgerException(e);
            }
        }
        return open;
    }

    /**
     * Rows ended FAILED with {@code reasonCode} before {@code endedBefore} whose result was never
     * stored: the process stopped, or the ledger failed, between the two writes.
     */
    public List<LedgerRecord> findFailedWithoutResult(String reasonCode, long endedBefore) {
        return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE state = ? AND reason_code = ?"
                + " AND result_status IS NULL AND " + NO_RESULT + " AND completed_at < ?",
                SubmissionState.FAILED.name(), reasonCode, endedBefore);
    }

    /**
     * Ends a row found by {@link #findReplacedUntouchedSince} FAILED, provided it is still before its
     * upload and untouched since {@code updatedBefore}: a worker may have taken it up meanwhile.
     */
    public boolean endReplacedIfUntouched(String id, long updatedBefore, String reasonCode, String message) {
        long now = System.currentTimeMillis();
        return 1 == update("UPDATE ktp_submission SET state = ?, reason_code = ?, error_message = ?, completed_at = ?,"
                        + " upload_url = NULL, updated_at = ? WHERE id = ? AND state IN (?, ?) AND updated_at < ?"
                        + " AND source_released_at IS NULL",
                SubmissionState.FAILED.name(), reasonCode, fitText(message, 2000), now, now, id,
                SubmissionState.RECEIVED.name(), SubmissionState.PRESIGNED.name(), updatedBefore);
    }

    /**
     * Marks rows as touched at {@code now} (inputs a live worker has in hand, see InputsInHand) and
     * extends the hold of {@code worker} on those it holds to {@code until}.
     */
    public void touch(List<String> ids, long now, String worker, long until) {
        for (int from = 0; from < ids.size(); from += 500) {
            List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 500));
            Object[] args = new Object[chunk.size() + 3];
            args[0] = now;
            args[1] = worker;
            args[2] = until;
            for (int i = 0; i < chunk.size(); i++) {
                args[i + 3] = chunk.get(i);
            }
            update("UPDATE ktp_submission SET updated_at = ?, worker_until = CASE WHEN worker = ? THEN ?"
                    + " ELSE worker_until END WHERE id IN (" + placeholders(chunk.size()) + ")", args);
        }
    }

    /**
     * Takes the input of row {@code id} in hand for {@code worker} until {@code until}, unless
     * another worker holds it and its hold has not run out.
     *
     * @return false when another worker has it in hand
     */
    public boolean takeInHand(String id, String worker, long until, long now) {
        return 1 == update("UPDATE ktp_submission SET worker = ?, worker_until = ? WHERE id = ?"
                + " AND (worker IS NULL OR worker = ? OR worker_until < ?)", worker, until, id, worker, now);
    }

    /** Lets go of the input of row {@code id}, if {@code worker} still holds it. */
    public void letGo(String id, String worker) {
        update("UPDATE ktp_submission SET worker = NULL, worker_until = NULL WHERE id = ? AND worker = ?", id, worker);
    }

    /** The source let go of the input (moved it to its done or failed place, or deleted it). */
    public void markReleased(String id) {
        update("UPDATE ktp_submission SET source_released_at = ? WHERE id = ? AND source_released_at IS NULL",
                System.currentTimeMillis(), id);
    }

    /**
     * Claims an image content for the ledger row {@code id}, which must be written already. The
     * claim is one primary key, so of two inputs with the same bytes taken at the same moment only
     * one gets it. A holder that was rejected, failed or is gone is taken over.
     *
     * @return empty when the row holds the claim now, else the row that holds it
     */
    public Optional<LedgerRecord> claimContent(String sha256, String id) {
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                // a claim already there is the usual case of a duplicate: no failed statement for it (a
                // PostgreSQL server logs each one); only two claims at the same moment meet the key
                if (1 == update("INSERT INTO ktp_content_claim (source_sha256, ledger_id, claimed_at) SELECT ?, ?, ?"
                        + " WHERE NOT EXISTS (SELECT 1 FROM ktp_content_claim WHERE source_sha256 = ?)",
                        sha256, id, System.currentTimeMillis(), sha256)) {
                    return Optional.empty();
                }
            } catch (LedgerException e) {
                if (!e.isDuplicateKey()) {
                    throw e;
                }
            }
            String holder = claimHolder(sha256);
            if (id.equals(holder)) {
                return Optional.empty();
            }
            if (holder == null) {
                continue;
            }
            Optional<LedgerRecord> held = findById(holder);
            if (held.isPresent() && held.get().state() != SubmissionState.REJECTED
                    && held.get().state() != SubmissionState.FAILED) {
                return held;
            }
            if (1 == update("UPDATE ktp_content_claim SET ledger_id = ?, claimed_at = ? WHERE source_sha256 = ?"
                    + " AND ledger_id = ?", id, System.currentTimeMillis(), sha256, holder)) {
                return Optional.empty();
            }
        }
        throw new LedgerException("The claim on an image content kept changing hands (ledger row " + id + ")");
    }

    private String claimHolder(String sha256) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT ledger_id FROM ktp_content_claim WHERE source_sha256 = ?")) {
            ps.setString(1, sha256);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * What {@link #holdSubmission} found: the row that holds the submission when it is another
     * input's ({@code heldBy}), else null and the session ids this input now uses with it.
     */
    public record SubmissionHold(LedgerRecord heldBy, String partnerSessionId, String sdkSessionId) {
    }

    /**
     * Records the submission a presign returned for the input {@code id}, before anything is
     * uploaded to it. OneKYC may answer a presign with an existing INITIATED submission ("new or
     * existing submission", reference 4), which may be one another input holds: that one must not
     * get this input's bytes. An input that ended without confirming its submission (it failed
     * before the confirm) lets it go, as OneKYC never processed it and may hand it out again; its
     * session ids, which OneKYC knows the submission by, go with it. One that ended after its
     * confirm (taken as confirmed without an answer, say) keeps it, though OneKYC may still call it
     * INITIATED: its result was delivered under that submission id, which another input's result
     * would replace at the targets. The upload URL is kept too: an
     * input taken again after its upload failed (storage away) uploads there while it is valid,
     * instead of presigning another submission.
     */
    public SubmissionHold holdSubmission(String id, String submissionId, String partnerSessionId,
                                         String sdkSessionId, String uploadUrl, long uploadUrlExpiresAt) {
        String partnerSession = partnerSessionId;
        String sdkSession = sdkSessionId;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                writeSubmission(id, SubmissionState.PRESIGNED, submissionId, partnerSession, sdkSession, uploadUrl,
                        uploadUrlExpiresAt, false);
                return new SubmissionHold(null, partnerSession, sdkSession);
            } catch (LedgerException e) {
                if (!e.isDuplicateKey()) {
                    throw e;
                }
            }
            Optional<LedgerRecord> held = findBySubmissionId(submissionId);
            if (held.isEmpty()) {
                continue; // let go meanwhile
            }
            LedgerRecord holder = held.get();
            if (!holder.state().isFinal() || holder.submittedAt() != null) {
                return new SubmissionHold(holder, partnerSessionId, sdkSessionId);
            }
            // whoever lets it go first, OneKYC knows the submission by its first holder's session ids
            update("UPDATE ktp_submission SET submission_id = NULL, updated_at = ? WHERE id = ? AND submission_id = ?"
                    + " AND submitted_at IS NULL", System.currentTimeMillis(), holder.id(), submissionId);
            partnerSession = holder.partnerSessionId() != null ? holder.partnerSessionId() : partnerSessionId;
            sdkSession = holder.sdkSessionId() != null ? holder.sdkSessionId() : sdkSessionId;
        }
        throw new LedgerException("Submission " + submissionId + " kept changing hands (ledger row " + id + ")");
    }

    /**
     * Notes that the input {@code id} is left in its source after a passing failure, and returns
     * when its current run of such failures began (epoch ms): at the first one since the input's
     * bytes were last stored (see {@link #writeSubmission}), whichever process met it. Kept in the
     * ledger, so neither a restart nor another instance of a cluster taking the input starts it anew.
     */
    public long noteDeferral(String id, long now) {
        update("UPDATE ktp_submission SET deferred_since = COALESCE(deferred_since, ?) WHERE id = ?", now, id);
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT deferred_since FROM ktp_submission WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                long since = rs.next() ? rs.getLong(1) : 0;
                return since > 0 ? since : now;
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * The bytes are at the storage: the submission id, its session ids and the upload URL (for a
     * confirm answered 422, which uploads again) as of now; a restart confirms this submission.
     * <p>
     * Notes in the same write that its confirm is sent (see {@link #noteConfirmSent}): the confirm
     * follows at once, and a note of its own before it would cost every input one more statement.
     * Written a moment early, it is wrong only for a process killed in that moment, and then on the
     * safe side: a refusal of the next confirm hands the input to the poller, which confirms it
     * again or ends it, where a missing note could have its image processed twice. The confirm
     * step clears it when the answer says the confirm was not applied ({@link #clearConfirmSent}).
     */
    public void markUploaded(String id, String submissionId, String partnerSessionId, String sdkSessionId,
                             String uploadUrl, Long uploadUrlExpiresAt) {
        writeSubmission(id, SubmissionState.UPLOADED, submissionId, partnerSessionId, sdkSessionId, uploadUrl,
                uploadUrlExpiresAt, true);
    }

    /**
     * Notes that a confirm of the row's submission is about to be sent, for an input resumed
     * uploaded: kept in the ledger, so a process that takes the input after this one was killed
     * before the answer knows the confirm may have been applied.
     *
     * @return true when the note was there already: an earlier confirm's answer was never had
     */
    public boolean noteConfirmSent(String id) {
        return 0 == update("UPDATE ktp_submission SET confirm_sent_at = ? WHERE id = ? AND confirm_sent_at IS NULL",
                System.currentTimeMillis(), id);
    }

    /** The confirm's answer said it was not applied (refused for now, never sent): no longer in doubt. */
    public void clearConfirmSent(String id) {
        update("UPDATE ktp_submission SET confirm_sent_at = NULL WHERE id = ?", id);
    }

    /**
     * A row before its confirm moves to {@code state} with this submission, its session ids and
     * upload URL. With {@code runOver}, the bytes are stored, so a run of passing failures the input
     * had is over. A presign does not end it: an input whose upload keeps failing presigns again
     * each time its URL runs out, and the run must reach its window all the same.
     * <p>
     * A callback noted for the row's earlier submission (one OneKYC ended before our confirm, e.g.
     * its URL ran out) is forgotten with it when the submission changes: kept, it would have the new
     * submission collected at once after its confirm, and its ERROR reason published for it. So is
     * the note of a confirm sent, which is about the earlier submission; UPLOADED writes it anew
     * (see {@link #markUploaded}).
     */
    private void writeSubmission(String id, SubmissionState state, String submissionId, String partnerSessionId,
                                 String sdkSessionId, String uploadUrl, Long uploadUrlExpiresAt, boolean runOver) {
        long now = System.currentTimeMillis();
        boolean uploaded = state == SubmissionState.UPLOADED;
        requireOne(update("UPDATE ktp_submission SET state = ?,"
                        + " callback_at = CASE WHEN submission_id = ? THEN callback_at ELSE NULL END,"
                        + " callback_error = CASE WHEN submission_id = ? THEN callback_error ELSE NULL END,"
                        + (uploaded ? " confirm_sent_at = ?,"
                                : " confirm_sent_at = CASE WHEN submission_id = ? THEN confirm_sent_at ELSE NULL END,")
                        + " submission_id = ?, partner_session_id = ?,"
                        + " sdk_session_id = ?, upload_url = ?, upload_url_expires_at = ?,"
                        + (runOver ? " deferred_since = NULL," : "")
                        + " updated_at = ? WHERE id = ?"
                        + " AND state IN (?, ?, ?)",
                state.name(), submissionId, submissionId, uploaded ? (Object) now : submissionId, submissionId,
                partnerSessionId, sdkSessionId, uploadUrl, uploadUrlExpiresAt, now, id,
                SubmissionState.RECEIVED.name(), SubmissionState.PRESIGNED.name(), SubmissionState.UPLOADED.name()), id);
    }

    public void markConfirmed(String id, long submittedAt, long firstPollAt, long deadlineAt) {
        int rows = update("UPDATE ktp_submission SET state = ?, submitted_at = ?, next_poll_at = ?, deadline_at = ?,"
                        + " poll_attempts = 0, upload_url = NULL, updated_at = ? WHERE id = ? AND state IN (?, ?, ?)",
                SubmissionState.CONFIRMED.name(), submittedAt, firstPollAt, deadlineAt, System.currentTimeMillis(), id,
                SubmissionState.RECEIVED.name(), SubmissionState.PRESIGNED.name(), SubmissionState.UPLOADED.name());
        if (rows == 0 && findById(id).map(r -> r.submittedAt() != null).orElse(false)) {
            // a confirm step run again after its write did commit (the answer was lost): already recorded
            return;
        }
        requireOne(rows, id);
    }

    /**
     * Ends an input that never reached OneKYC's processing (rejected or failed).
     *
     * @return false when the row had moved on (e.g. confirmed meanwhile): nothing was changed
     */
    public boolean markEnded(String id, SubmissionState finalState, String reasonCode, String message) {
        return 1 == update("UPDATE ktp_submission SET state = ?, reason_code = ?, error_message = ?, completed_at = ?,"
                        + " upload_url = NULL, updated_at = ? WHERE id = ? AND state IN (?, ?, ?, ?)",
                finalState.name(), reasonCode, fitText(message, 2000), System.currentTimeMillis(),
                System.currentTimeMillis(), id, SubmissionState.RECEIVED.name(), SubmissionState.PRESIGNED.name(),
                SubmissionState.UPLOADED.name(), SubmissionState.REJECTED.name());
    }

    /** Notes that a callback arrived, whatever the current state; returns the row if the submission is ours. */
    public Optional<LedgerRecord> noteCallback(String submissionId) {
        return noteCallback(submissionId, null);
    }

    /**
     * As above, for a callback that said ERROR with {@code errorReason} (its reason code, "" for
     * none; null for a callback that did not say ERROR): kept, the first one's, for {@link #callbackError}.
     */
    public Optional<LedgerRecord> noteCallback(String submissionId, String errorReason) {
        long now = System.currentTimeMillis();
        if (errorReason == null) {
            update("UPDATE ktp_submission SET callback_at = ?, updated_at = ? WHERE submission_id = ?"
                    + " AND callback_at IS NULL", now, now, submissionId);
        } else {
            update("UPDATE ktp_submission SET callback_at = COALESCE(callback_at, ?), callback_error = ?, updated_at = ?"
                    + " WHERE submission_id = ? AND callback_error IS NULL", now, fitText(errorReason, 64), now,
                    submissionId);
        }
        return findBySubmissionId(submissionId);
    }

    /** The reason code of the first ERROR callback noted for this row ("" when it gave none); empty when none came. */
    public Optional<String> callbackError(String id) {
        return text(id, "callback_error");
    }

    /** A confirmed submission's outcome taken by one collector; {@code token} names the claim (see {@link #claim}). */
    public record Claim(LedgerRecord row, long token) {
    }

    /**
     * A new claim token: random, so that claims made anywhere in the cluster at the same moment are
     * told apart (a time was not: two instances in one millisecond each held the other's claim).
     * Above 0, which the claim methods answer for "not claimed".
     */
    public static long newClaimToken() {
        return java.util.concurrent.ThreadLocalRandom.current().nextLong(1, Long.MAX_VALUE);
    }

    /**
     * A callback for a confirmed submission, in one write: notes its arrival and takes ownership
     * of the outcome. Empty when the row is not (or no longer) confirmed, or not ours: the caller
     * then falls back to {@link #noteCallback}.
     */
    public Optional<Claim> claimByCallback(String submissionId) {
        return claimByCallback(submissionId, null);
    }

    /** As above, keeping an ERROR callback's reason as {@link #noteCallback(String, String)} does. */
    public Optional<Claim> claimByCallback(String submissionId, String errorReason) {
        return claimByCallback(submissionId, errorReason, newClaimToken());
    }

    /**
     * As above, with the claim's token ({@link #newClaimToken}) chosen by the caller, so that the
     * same claim tried again after a reply lost on its way back (the write done, a failover cutting
     * the connection before the answer) finds the row its own, not taken: it would otherwise wait
     * for {@code ktp.poll.stale-claim-after}.
     */
    public Optional<Claim> claimByCallback(String submissionId, String errorReason, long token) {
        long now = System.currentTimeMillis();
        if (update("UPDATE ktp_submission SET state = ?, received_via = ?, claimed_at = ?, claim_token = ?,"
                        + " callback_at = COALESCE(callback_at, ?), callback_error = COALESCE(callback_error, ?),"
                        + " updated_at = ? WHERE submission_id = ? AND (state = ?"
                        + " OR state = ? AND received_via = ? AND claim_token = ?)",
                SubmissionState.COLLECTING.name(), "callback", now, token, now, fitText(errorReason, 64), now,
                submissionId, SubmissionState.CONFIRMED.name(), SubmissionState.COLLECTING.name(), "callback",
                token) != 1) {
            return Optional.empty();
        }
        return findBySubmissionId(submissionId).map(row -> new Claim(row, token));
    }

    /** Whether a callback has been noted for this row (a narrow read, for the path after the confirm). */
    public boolean callbackNoted(String id) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT callback_at FROM ktp_submission WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getObject(1) != null;
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * Takes ownership of a confirmed submission's outcome.
     *
     * @return this claim's token, for {@link #releaseClaim}; 0 if someone else already has the outcome
     */
    public long claim(String id, String via) {
        return claim(id, via, newClaimToken());
    }

    /**
     * As above, with the claim's token ({@link #newClaimToken}) chosen by the caller: the same claim
     * tried again after its reply was lost finds the row its own (see {@link #claimByCallback}).
     */
    public long claim(String id, String via, long token) {
        return claim(id, via, token, "");
    }

    /**
     * As {@link #claim}, only while no callback has been noted for the row: for the poller ending a
     * submission on its own verdict (status refused it, the deadline passed) with a copy of the row
     * read before a callback named it final, which then decides instead (see {@code Collector}).
     */
    public long claimWithoutCallback(String id, String via) {
        return claimWithoutCallback(id, via, newClaimToken());
    }

    /** As above, with the claim's token chosen by the caller (see {@link #claim(String, String, long)}). */
    public long claimWithoutCallback(String id, String via, long token) {
        return claim(id, via, token, " AND callback_at IS NULL");
    }

    private long claim(String id, String via, long token, String alsoUnless) {
        long now = System.currentTimeMillis();
        return update("UPDATE ktp_submission SET state = ?, received_via = ?, claimed_at = ?, claim_token = ?,"
                        + " updated_at = ? WHERE id = ? AND (state = ?" + alsoUnless
                        + " OR state = ? AND received_via = ? AND claim_token = ?)",
                SubmissionState.COLLECTING.name(), via, now, token, now, id, SubmissionState.CONFIRMED.name(),
                SubmissionState.COLLECTING.name(), via, token) == 1 ? token : 0;
    }

    /**
     * Gives an outcome back to the pool (details not ready or not reachable), if the claim is still
     * the caller's: a collector that took so long that its claim was released as stale, and taken by
     * another, must not reopen the other's.
     */
    public void releaseClaim(String id, long nextPollAt, long token) {
        release(id, nextPollAt, token, "");
    }

    /** As {@link #releaseClaim}, counting one more poll of the row (its back-off follows the count). */
    public void releaseClaimAfterPoll(String id, long nextPollAt, long token) {
        release(id, nextPollAt, token, " poll_attempts = poll_attempts + 1,");
    }

    private void release(String id, long nextPollAt, long token, String alsoSet) {
        update("UPDATE ktp_submission SET state = ?, received_via = NULL, claimed_at = NULL, claim_token = NULL,"
                        + " next_poll_at = ?," + alsoSet + " updated_at = ? WHERE id = ? AND state = ? AND claim_token = ?",
                SubmissionState.CONFIRMED.name(), nextPollAt, System.currentTimeMillis(), id,
                SubmissionState.COLLECTING.name(), token);
    }

    /** Whether the claim {@code token} still holds the outcome (it was not released as stale and taken over). */
    public boolean holdsClaim(String id, long token) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM ktp_submission WHERE id = ? AND state = ? AND claim_token = ?")) {
            ps.setString(1, id);
            ps.setString(2, SubmissionState.COLLECTING.name());
            ps.setLong(3, token);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /** Claims whose owner vanished (crash) go back to the pool. */
    public int releaseStaleClaims(long claimedBefore) {
        return update("UPDATE ktp_submission SET state = ?, received_via = NULL, claimed_at = NULL, claim_token = NULL,"
                        + " updated_at = ? WHERE state = ? AND claimed_at < ?",
                SubmissionState.CONFIRMED.name(), System.currentTimeMillis(), SubmissionState.COLLECTING.name(),
                claimedBefore);
    }

    public void reschedulePoll(String id, int attempts, long nextPollAt) {
        update("UPDATE ktp_submission SET poll_attempts = ?, next_poll_at = ?, updated_at = ? WHERE id = ? AND state = ?",
                attempts, nextPollAt, System.currentTimeMillis(), id, SubmissionState.CONFIRMED.name());
    }

    /** Work done on the ledger's connection inside a {@link #recordResult} transaction. */
    @FunctionalInterface
    public interface InTransaction {
        void run(Connection connection) throws SQLException;
    }

    /**
     * Stores an outcome, runs {@code alsoInTransaction} (the outbox rows) and marks the row
     * delivered, all in one transaction: either the result is stored and queued, or nothing
     * changed and the claim is still open to publish it again.
     *
     * @return false, with nothing changed, when the row already holds a result: a collector whose
     *         claim went stale and was taken over must not replace what the other one stored
     */
    public boolean recordResult(String id, String resultStatus, String result, String reasonCode, Long completedAt,
                                String resultJson, InTransaction alsoInTransaction) {
        return recordResult(id, resultStatus, result, reasonCode, completedAt, resultJson, null, alsoInTransaction);
    }

    /**
     * As above, for an outcome a collector decided itself (a deadline, a refusal): stored only while
     * its claim {@code claimToken} (see {@link #claim}) still holds the row, in the same statement.
     * A collector whose claim was released as stale and taken over meanwhile stores nothing.
     */
    public boolean recordResult(String id, String resultStatus, String result, String reasonCode, Long completedAt,
                                String resultJson, Long claimToken, InTransaction alsoInTransaction) {
        return recordResult(id, resultStatus, result, reasonCode, completedAt, resultJson, claimToken, "",
                alsoInTransaction);
    }

    /**
     * As above, for the poller's own verdict (a refusal, the deadline) on a row it claimed while no
     * callback was noted: stored only while that still holds, in the same statement. A callback
     * noted after the poller last looked then decides instead (see {@code Collector}).
     */
    public boolean recordVerdict(String id, String resultStatus, String reasonCode, Long completedAt,
                                 String resultJson, long claimToken, InTransaction alsoInTransaction) {
        return recordResult(id, resultStatus, null, reasonCode, completedAt, resultJson, claimToken,
                " AND callback_at IS NULL", alsoInTransaction);
    }

    /**
     * As {@link #recordVerdict}, for a collector's own verdict on an outcome a callback announced
     * (its details refused, or not had by the deadline): stored only while its claim holds and no
     * ERROR callback is noted, whose word is the result instead (see {@link #callbackError}).
     */
    public boolean recordUnlessErrorCallback(String id, String resultStatus, String reasonCode, Long completedAt,
                                             String resultJson, long claimToken, InTransaction alsoInTransaction) {
        return recordResult(id, resultStatus, null, reasonCode, completedAt, resultJson, claimToken,
                " AND callback_error IS NULL", alsoInTransaction);
    }

    private boolean recordResult(String id, String resultStatus, String result, String reasonCode, Long completedAt,
                                 String resultJson, Long claimToken, String alsoUnless,
                                 InTransaction alsoInTransaction) {
        long began = flush.beginWrite();
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                long now = System.currentTimeMillis();
                String set = "UPDATE ktp_submission SET result_status = ?, result = ?, reason_code = ?,"
                        + " completed_at = ?, result_json = ?, state = CASE WHEN state IN (?, ?) THEN state ELSE ? END,"
                        + " delivered_at = ?, updated_at = ? WHERE id = ? AND result_json IS NULL";
                int rows = claimToken == null
                        ? execute(c, set, resultStatus, result, reasonCode, completedAt, resultJson,
                                SubmissionState.REJECTED.name(), SubmissionState.FAILED.name(),
                                SubmissionState.DELIVERED.name(), now, now, id)
                        : execute(c, set + " AND state = ? AND claim_token = ?" + alsoUnless, resultStatus, result,
                                reasonCode, completedAt, resultJson, SubmissionState.REJECTED.name(),
                                SubmissionState.FAILED.name(), SubmissionState.DELIVERED.name(), now, now, id,
                                SubmissionState.COLLECTING.name(), claimToken);
                if (rows == 0) {
                    c.rollback();
                    // counted all the same, as update() counts a statement that matched nothing: a retry that
                    // finds its earlier try's result stored (taken as lost for a closure around it, see
                    // DurableFlush) is judged afresh by its flush, not failed again by that mark
                    flush.written(began);
                    return false;
                }
                alsoInTransaction.run(c);
                c.commit();
                flush.written(began);
                return true;
            } catch (SQLException | RuntimeException e) {
                // a broken connection refuses the rollback too: keep the first error, it says why
                try {
                    c.rollback();
                } catch (SQLException rollbackFailed) {
                    e.addSuppressed(rollbackFailed);
                }
                throw e;
            } finally {
                try {
                    c.setAutoCommit(autoCommit);
                } catch (SQLException brokenConnection) {
                    // the pool discards a broken connection; the outcome above stands
                }
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    public List<LedgerRecord> dueForPoll(long now, int limit) {
        return dueForPoll(now, limit, false, 0);
    }

    /**
     * @param callbacksOnly  only rows a callback has named final, those past their deadline, and
     *                       those not looked at yet {@code firstLookAfter} after their confirm (with
     *                       status polling off, a callback's collection is what is retried; a
     *                       submission no callback named final gets one look once a confirm that did
     *                       not take would show, so it is confirmed again, and a last at its deadline;
     *                       the poller leaves the count at 0 while that look is not had, see Poller)
     * @param firstLookAfter see {@code callbacksOnly} (ms)
     */
    public List<LedgerRecord> dueForPoll(long now, int limit, boolean callbacksOnly, long firstLookAfter) {
        if (callbacksOnly) {
            return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE state = ? AND next_poll_at <= ?"
                    + " AND (callback_at IS NOT NULL OR deadline_at <= ?"
                    + " OR poll_attempts = 0 AND submitted_at <= ?) ORDER BY next_poll_at FETCH FIRST " + limit
                    + " ROWS ONLY", SubmissionState.CONFIRMED.name(), now, now, now - firstLookAfter);
        }
        return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE state = ? AND next_poll_at <= ?"
                + " ORDER BY next_poll_at FETCH FIRST " + limit + " ROWS ONLY", SubmissionState.CONFIRMED.name(), now);
    }

    public Optional<LedgerRecord> findById(String id) {
        return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE id = ?", id).stream().findFirst();
    }

    public Optional<LedgerRecord> findBySubmissionId(String submissionId) {
        return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE submission_id = ?", submissionId)
                .stream().findFirst();
    }

    public Optional<String> resultJson(String id) {
        return text(id, "result_json");
    }

    /** One text column of a row (a narrow read); empty when the row or the value is not there. */
    private Optional<String> text(String id, String column) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT " + column + " FROM ktp_submission WHERE id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    public List<LedgerRecord> createdSince(long since) {
        return query("SELECT " + COLUMNS + " FROM ktp_submission WHERE created_at >= ? ORDER BY created_at, id", since);
    }

    /**
     * The inputs of a run that began at {@code since}: taken since then, or taken earlier and given
     * their result since (resumed after a stop). Oldest first, handed over one at a time: a summary
     * of a batch of any size holds one row in memory, not the batch.
     */
    public void forEachOfRun(long since, Consumer<LedgerRecord> action) {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            // PostgreSQL streams a result only inside a transaction with a fetch size
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS
                    + " FROM ktp_submission WHERE " + OF_RUN + " ORDER BY created_at, id")) {
                ps.setFetchSize(500);
                ps.setLong(1, since);
                ps.setLong(2, since);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        action.accept(map(rs));
                    }
                }
                c.commit();
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /** Inputs that ended without a stored result, whenever they were taken (earlier runs included). */
    public long endedWithoutResult() {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT COUNT(*) FROM ktp_submission WHERE state IN (?, ?, ?) AND result_status IS NULL AND "
                        + NO_RESULT)) {
            ps.setString(1, SubmissionState.DELIVERED.name());
            ps.setString(2, SubmissionState.REJECTED.name());
            ps.setString(3, SubmissionState.FAILED.name());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /** How the inputs of a run stand, counted by the database. */
    public record Progress(long seen, long submitted, long ended, long failed, long errors, long withoutResult) {

        public static final Progress NONE = new Progress(0, 0, 0, 0, 0, 0);

        public Progress plus(Progress o) {
            return new Progress(seen + o.seen, submitted + o.submitted, ended + o.ended, failed + o.failed,
                    errors + o.errors, withoutResult + o.withoutResult);
        }
    }

    /**
     * No stored result: delivered_at is written with it (see {@link #recordResult}), and its index
     * holds the few rows without one (the open ones and those that ended before it was stored), where
     * the state index would read every ended (or every failed) input the retention keeps.
     */
    private static final String NO_RESULT = "delivered_at IS NULL";

    /** The inputs of a run that began at a moment: taken since, or given their result since. */
    private static final String OF_RUN = "(created_at >= ? OR delivered_at >= ?)";

    /** The figures of {@link Progress}, counted over the rows a WHERE clause picks. */
    private static final String PROGRESS = "SELECT COUNT(*), COUNT(submitted_at),"
            + " SUM(CASE WHEN state IN (?, ?, ?) THEN 1 ELSE 0 END),"
            + " SUM(CASE WHEN state IN (?, ?) OR result_status IN (?, ?, ?) THEN 1 ELSE 0 END),"
            + " SUM(CASE WHEN state = ? AND result_status = ? THEN 1 ELSE 0 END),"
            + " SUM(CASE WHEN state NOT IN (?, ?, ?) OR result_status IS NULL THEN 1 ELSE 0 END)"
            + " FROM ktp_submission WHERE ";

    /**
     * Counts of the inputs of a run that began at {@code since} (see {@link #forEachOfRun}): all,
     * submitted (confirmed at OneKYC), ended, failed (a FAILED, REJECTED or TIMED_OUT result,
     * whenever it came), errors (delivered with an ERROR result: OneKYC finished with a technical
     * error; never counted as failed too), and not ended or without a stored result. Reads every
     * row of the run: for a count at its end; a running count adds up {@link #progressEndedBetween}
     * and {@link #progressOfRunFrom} instead.
     */
    public Progress progressOfRun(long since) {
        try (Connection c = dataSource.getConnection()) {
            return progress(c, OF_RUN, since, since);
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * The counts of {@link #progressOfRun} over the inputs given their result at {@code from} or
     * later and before {@code to} (all of them ended), read as a range of the index on delivered_at:
     * a result is stored once and the row stays ended, so these counts, once taken, stand.
     */
    public Progress progressEndedBetween(long from, long to) {
        try (Connection c = dataSource.getConnection()) {
            return progress(c, "delivered_at >= ? AND delivered_at < ?", from, to);
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    /**
     * The counts of {@link #progressOfRun} for a run that began at {@code since}, over its inputs
     * without a stored result (open, or ended before their result was written) and those given it
     * at {@code from} or later: with {@link #progressEndedBetween}{@code (since, from)}, the whole
     * run. Both parts are read by the index on delivered_at (a null is in a B-tree index too), so
     * the rows read do not grow with the time since {@code since}.
     */
    public Progress progressOfRunFrom(long since, long from) {
        try (Connection c = dataSource.getConnection()) {
            // two statements, not one OR: H2 reads an OR of two index conditions by a table scan
            return progress(c, "delivered_at IS NULL AND created_at >= ?", since)
                    .plus(progress(c, "delivered_at >= ?", Math.max(since, from)));
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    private static Progress progress(Connection c, String where, long... bounds) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(PROGRESS + where)) {
            int i = 1;
            for (SubmissionState state : List.of(SubmissionState.DELIVERED, SubmissionState.REJECTED,
                    SubmissionState.FAILED, SubmissionState.FAILED, SubmissionState.REJECTED)) {
                ps.setString(i++, state.name());
            }
            for (String status : List.of("FAILED", "REJECTED", "TIMED_OUT")) {
                ps.setString(i++, status);
            }
            ps.setString(i++, SubmissionState.DELIVERED.name());
            ps.setString(i++, "ERROR");
            for (SubmissionState state : List.of(SubmissionState.DELIVERED, SubmissionState.REJECTED,
                    SubmissionState.FAILED)) {
                ps.setString(i++, state.name());
            }
            for (long bound : bounds) {
                ps.setLong(i++, bound);
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                // SUM over no rows is NULL, read as 0
                return new Progress(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5),
                        rs.getLong(6));
            }
        }
    }

    /** Rows by state name. */
    public Map<String, Integer> stateCounts() {
        Map<String, Integer> counts = new TreeMap<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT state, COUNT(*) FROM ktp_submission GROUP BY state");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                counts.put(rs.getString(1), rs.getInt(2));
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
        return counts;
    }

    /** Confirmed submissions whose poll is due now, and those past their deadline. */
    public long[] pollBacklog(long now) {
        return pollBacklog(now, false, 0);
    }

    /**
     * As {@link #pollBacklog(long)}, counting as due what a tick takes: with {@code callbacksOnly}
     * (status polling off) only the rows {@link #dueForPoll(long, int, boolean, long)} would take,
     * not every submission still waiting for its callback.
     */
    public long[] pollBacklog(long now, boolean callbacksOnly, long firstLookAfter) {
        String due = callbacksOnly ? "next_poll_at <= ? AND (callback_at IS NOT NULL OR deadline_at <= ?"
                + " OR poll_attempts = 0 AND submitted_at <= ?)" : "next_poll_at <= ?";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT SUM(CASE WHEN " + due + " THEN 1 ELSE 0 END), SUM(CASE WHEN deadline_at <= ? THEN 1 ELSE 0 END)"
                        + " FROM ktp_submission WHERE state = ?")) {
            int i = 1;
            ps.setLong(i++, now);
            if (callbacksOnly) {
                ps.setLong(i++, now);
                ps.setLong(i++, now - firstLookAfter);
            }
            ps.setLong(i++, now);
            ps.setString(i, SubmissionState.CONFIRMED.name());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    private static final List<SubmissionState> OPEN_STATES =
            java.util.Arrays.stream(SubmissionState.values()).filter(st -> !st.isFinal()).toList();

    /** Rows not yet in a final state, by state name. */
    public Map<String, Integer> openCounts() {
        Map<String, Integer> counts = new TreeMap<>();
        try (Connection c = dataSource.getConnection();
             // the open states named, not the final ones excluded: read through the index on state,
             // so the ended rows of a long retention are not counted one by one every few seconds
             PreparedStatement ps = c.prepareStatement("SELECT state, COUNT(*) FROM ktp_submission WHERE state IN ("
                     + placeholders(OPEN_STATES.size()) + ") GROUP BY state")) {
            for (int i = 0; i < OPEN_STATES.size(); i++) {
                ps.setString(i + 1, OPEN_STATES.get(i).name());
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    counts.put(rs.getString(1), rs.getInt(2));
                }
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
        return counts;
    }

    private void requireOne(int rows, String id) {
        if (rows != 1) {
            throw new LedgerException("Ledger row " + id + " was not in the expected state (" + rows + " rows written; "
                    + whatItIs(id) + ")");
        }
    }

    /** The row's state and whether it holds a submission, for a write that found it otherwise than expected. */
    private String whatItIs(String id) {
        try {
            return findById(id).map(r -> "now " + r.state() + (r.submissionId() == null ? ", no submission"
                    : ", with a submission")).orElse("no such row");
        } catch (LedgerException e) {
            return "not read again: " + e.getMessage();
        }
    }

    private static String placeholders(int n) {
        return String.join(", ", java.util.Collections.nCopies(n, "?"));
    }

    /** At most {@code max} characters, and no NUL, which PostgreSQL refuses in text (the outbox's too). */
    public static String fitText(String s, int max) {
        if (s == null) {
            return null;
        }
        String text = s.replace("\u0000", "");
        return text.length() <= max ? text : text.substring(0, max);
    }

    private int update(String sql, Object... args) {
        long began = flush.beginWrite();
        try (Connection c = dataSource.getConnection()) {
            int rows = execute(c, sql, args);
            flush.written(began);
            return rows;
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    private static int execute(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        }
    }

    private List<LedgerRecord> query(String sql, Object... args) {
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                List<LedgerRecord> rows = new ArrayList<>();
                while (rs.next()) {
                    rows.add(map(rs));
                }
                return rows;
            }
        } catch (SQLException e) {
            throw new LedgerException(e);
        }
    }

    private static void bind(PreparedStatement ps, Object[] args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null) {
                // untyped null: the column decides (PostgreSQL refuses a VARCHAR null for BIGINT)
                ps.setObject(i + 1, null);
            } else if (a instanceof Long l) {
                ps.setLong(i + 1, l);
            } else if (a instanceof Integer n) {
                ps.setInt(i + 1, n);
            } else {
                ps.setString(i + 1, a.toString());
            }
        }
    }

    private static LedgerRecord map(ResultSet rs) throws SQLException {
        return new LedgerRecord(
                rs.getString("id"), rs.getString("source_type"), rs.getString("source_ref"),
                rs.getString("source_file"), rs.getString("source_sha256"), nullableLong(rs, "source_size"),
                rs.getString("content_type"), rs.getString("onboarding_partner"), rs.getString("partner_user_id"),
                rs.getString("partner_user_id_type"), rs.getString("partner_session_id"),
                rs.getString("sdk_session_id"), rs.getString("submission_id"),
                SubmissionState.valueOf(rs.getString("state")), rs.getString("reason_code"),
                rs.getString("error_message"), rs.getString("confirm_metadata"), nullableLong(rs, "callback_at"),
                rs.getString("received_via"), rs.getInt("poll_attempts"), nullableLong(rs, "next_poll_at"),
                nullableLong(rs, "deadline_at"), nullableLong(rs, "submitted_at"), nullableLong(rs, "completed_at"),
                rs.getString("result_status"), rs.getString("result"), nullableLong(rs, "delivered_at"),
                rs.getLong("created_at"));
    }

    private static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }
}
