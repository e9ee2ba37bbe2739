package id.ktpbridge.ops;

import java.util.Map;

import org.apache.camel.health.HealthCheck;
import org.apache.camel.health.HealthCheckResultBuilder;
import org.apache.camel.health.HealthCheckResultStrategy;

/**
 * The error a health check reports, as the management port shows it ({@code exposureLevel=full},
 * {@code stackTrace=true}), by its kind only. Camel's consumer checks keep a source's last failed
 * poll, whose message can name a file or a sub-folder ("Cannot list directory: inbox/<name>"), and
 * a name may be a NIK; the source's own log line says what failed, without the names.
 */
public final class SafeHealthErrors implements HealthCheckResultStrategy {

    @Override
    public void processResult(HealthCheck check, Map<String, Object> options, HealthCheckResultBuilder builder) {
        Throwable error = builder.error();
        if (error != null && !(error instanceof KindOnly)) {
            builder.error(new KindOnly(kind(error)));
        }
    }

    /** The exception's class, its root cause's class, and an SFTP status (a number): no message text. */
    static String kind(Throwable error) {
        Throwable root = error;
        String sftpStatus = null;
        for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
            root = t;
            if (t instanceof com.jcraft.jsch.SftpException sftp && sftpStatus == null) {
                sftpStatus = "SFTP status " + sftp.id;
            }
        }
        StringBuilder text = new StringBuilder(error.getClass().getSimpleName());
        if (root != error) {
            text.append(" (").append(root.getClass().getSimpleName()).append(')');
        }
        if (sftpStatus != null) {
            text.append(": ").append(sftpStatus);
        }
        return text.append("; the bundle's log says more").toString();
    }

    /** An error without a message of its own or a stack: nothing in it can name a file. */
    static final class KindOnly extends Exception {

        KindOnly(String kind) {
            super(kind, null, false, false);
        }
    }
}
