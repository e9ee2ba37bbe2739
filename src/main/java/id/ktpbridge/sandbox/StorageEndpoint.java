package id.ktpbridge.sandbox;

import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * S3-like object storage behind the presigned URLs. Verifies the signature on the raw request
 * URI, keeps only size and SHA-256 of each upload (never the image bytes) and answers errors
 * with S3-style XML, because that is what a client meets on the real bucket.
 */
final class StorageEndpoint {

    static final String PREFIX = "/storage/";
    private static final Logger LOG = LoggerFactory.getLogger(StorageEndpoint.class);
    private static final int UUID_LENGTH = 36;

    private final SandboxCore core;
    private final Queue<StorageRequest> requests = new ConcurrentLinkedQueue<>();

    StorageEndpoint(SandboxCore core) {
        this.core = core;
    }

    List<StorageRequest> requests() {
        return List.copyOf(requests);
    }

    /** What to answer; built first so the request is recorded before the client sees the response. */
    private record Reply(int status, String body, String etag) { }

    void handle(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod().toUpperCase(java.util.Locale.ROOT);
        long[] bodySize = {0};
        Reply reply;
        int injected = core.faults.failureFor("storage");
        try {
            reply = injected != 0 ? injectedFailure(ex, method, injected, bodySize) : switch (method) {
                case "PUT" -> put(ex, bodySize);
                case "GET", "HEAD" -> get(ex);
                default -> xmlError(405, "MethodNotAllowed",
                        "The specified method is not allowed against this resource.");
            };
        } catch (RuntimeException e) {
            LOG.warn("Sandbox storage failed unexpectedly", e);
            reply = xmlError(500, "InternalError", "We encountered an internal error. Please try again.");
        }
        String rawQuery = ex.getRequestURI().getRawQuery();
        String rawUri = ex.getRequestURI().getRawPath() + (rawQuery == null ? "" : "?" + rawQuery);
        requests.add(new StorageRequest(method, rawUri, Exchanges.headersLowerCase(ex),
                ex.getRequestHeaders().getFirst("Content-Type"), bodySize[0], reply.status()));

        if (reply.etag() != null) {
            ex.getResponseHeaders().set("ETag", reply.etag());
        }
        if ("HEAD".equals(method)) {
            ex.sendResponseHeaders(reply.status(), -1);
        } else {
            Exchanges.send(ex, reply.status(), reply.body() == null ? null : "application/xml", reply.body());
        }
    }

    private Reply put(HttpExchange ex, long[] bodySize) throws IOException {
        Reply denied = checkSignature(ex, "PUT");
        if (denied != null) {
            return denied;
        }
        if (core.faults.denyUpload()) {
            // S3's answer to a bucket policy's refusal: the same code as an expired URL, another message
            return xmlError(403, "AccessDenied", "Access Denied");
        }
        ObjectRef ref = ObjectRef.parse(ex.getRequestURI().getRawPath());
        Submission submission = ref == null ? null : core.submissions.get(ref.submissionId());
        if (submission == null || !submission.documentKeys().contains(ref.documentKey())) {
            return xmlError(404, "NoSuchKey", "The specified key does not exist.");
        }
        long max = core.settings.getMaxUploadBytes();
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        if (declared != null && parseLong(declared) > max) {
            return tooLarge();
        }

        MessageDigest sha256 = sha256();
        long size = 0;
        try (InputStream in = ex.getRequestBody()) {
            byte[] buf = new byte[16 * 1024];
            int n;
            while ((n = in.read(buf)) != -1) {
                size += n;
                bodySize[0] = size;
                if (size > max) {
                    return tooLarge();
                }
                sha256.update(buf, 0, n);
            }
        }
        String digest = HexFormat.of().formatHex(sha256.digest());
        if (core.faults.dropUpload()) {
            LOG.debug("Sandbox storage acknowledged but dropped an upload for submission {}", submission.id());
            return new Reply(200, null, "\"" + digest.substring(0, 32) + "\"");
        }
        submission.recordUpload(ref.documentKey(), size, digest);
        LOG.debug("Sandbox storage stored {} bytes for submission {} document {}", size,
                submission.id(), ref.documentKey());
        return new Reply(200, null, "\"" + digest.substring(0, 32) + "\"");
    }

    /**
     * Injected storage fault: nothing is stored. The upload body is still read (and discarded)
     * so the client sees the error status instead of a connection reset mid-upload. Object
     * storage has no 429, so a drawn 429 becomes S3's throttling answer, 503 SlowDown.
     */
    private Reply injectedFailure(HttpExchange ex, String method, int status, long[] bodySize) throws IOException {
        if ("PUT".equals(method)) {
            long max = core.settings.getMaxUploadBytes();
            try (InputStream in = ex.getRequestBody()) {
                byte[] buf = new byte[16 * 1024];
                int n;
                while (bodySize[0] <= max && (n = in.read(buf)) != -1) {
                    bodySize[0] += n;
                }
            }
        }
        LOG.debug("Sandbox storage {} refused with injected {}", method, status);
        return switch (status) {
            case 429 -> {
                ex.getResponseHeaders().set("Retry-After", String.valueOf(core.settings.getRetryAfterSeconds()));
                yield xmlError(503, "SlowDown", "Please reduce your request rate.");
            }
            case 503 -> xmlError(503, "ServiceUnavailable", "Service is unable to handle request.");
            case 400 -> xmlError(400, "InvalidRequest", "The request is not valid.");
            default -> xmlError(500, "InternalError", "We encountered an internal error. Please try again.");
        };
    }

    /** Downloads: the sandbox keeps no bytes, so a correctly signed GET still finds nothing. */
    private Reply get(HttpExchange ex) {
        Reply denied = checkSignature(ex, "GET");
        if (denied != null) {
            return denied;
        }
        return xmlError(404, "NoSuchKey", "The sandbox does not retain uploaded objects.");
    }

    /** Null when the signature is fine, else the error to answer with. */
    private Reply checkSignature(HttpExchange ex, String signedMethod) {
        PresignedUrls.Failure failure = core.urls.verify(signedMethod,
                ex.getRequestURI().getRawPath(), ex.getRequestURI().getRawQuery());
        if (failure == null) {
            return null;
        }
        return switch (failure) {
            case SIGNATURE_MISMATCH -> xmlError(403, "SignatureDoesNotMatch",
                    "The request signature we calculated does not match the signature you provided.");
            case EXPIRED -> xmlError(403, "AccessDenied", "Request has expired");
            case MISSING_AUTH -> xmlError(403, "AccessDenied",
                    "Query-string authentication requires the Signature, Expires and AccessKeyId parameters");
        };
    }

    private static Reply tooLarge() {
        return xmlError(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
    }

    private static Reply xmlError(int status, String code, String message) {
        String body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>"
                + message + "</Message><RequestId>" + UUID.randomUUID() + "</RequestId></Error>";
        return new Reply(status, body, null);
    }

    private static long parseLong(String value) {
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /** {@code /storage/<TYPE>/<uuid>_<KEY>} split into its parts. */
    private record ObjectRef(String submissionId, String documentKey) {
        static ObjectRef parse(String rawPath) {
            String key = rawPath.substring(PREFIX.length());
            int slash = key.indexOf('/');
            String ref = slash < 0 ? key : key.substring(slash + 1);
            if (ref.length() < UUID_LENGTH + 2 || ref.charAt(UUID_LENGTH) != '_') {
                return null;
            }
            return new ObjectRef(ref.substring(0, UUID_LENGTH), ref.substring(UUID_LENGTH + 1));
        }
    }
}
