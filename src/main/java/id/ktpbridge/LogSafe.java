package id.ktpbridge;

import java.util.regex.Pattern;

/**
 * Text from outside the bundle (an error cause OneKYC sent, another library's message) made fit
 * for a log line and a result document: no control characters, no run of nine digits or more (a
 * NIK has sixteen, a phone number ten to thirteen; shorter runs are kept, so timeouts, sizes and
 * ports still read), and a length limit.
 */
public final class LogSafe {

    private static final Pattern DIGIT_RUN = Pattern.compile("\\d{9,}");
    private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");
    /**
     * A URL parameter that carries a secret (a database password, pgjdbc's {@code sslpassword}, an
     * OAuth {@code client_secret} or {@code access_token}, a presigned URL's signature): any name
     * ending so.
     */
    private static final Pattern SECRET_PARAMETER = Pattern.compile(
            "(?i)([\\w.-]*(?:password|passwd|pwd|secret|token|passphrase|signature|credential|sig))=[^&;\\s]*");
    /** A URL's user information ({@code //user:password@host}), up to its last '@' (a password may hold '@' or '/'). */
    private static final Pattern USER_INFO = Pattern.compile("//[^\\s?#]*@");
    /** Camel's placeholder parser quotes the whole value it failed on, a password perhaps. */
    private static final Pattern QUOTED_VALUE = Pattern.compile("(?i)(from (?:the )?text: |from input: ).*");

    private LogSafe() {
    }

    /** {@code text} with digit runs replaced by "#", control characters by spaces, cut at {@code max} characters. */
    public static String text(String text, int max) {
        if (text == null) {
            return null;
        }
        String safe = DIGIT_RUN.matcher(CONTROL.matcher(text).replaceAll(" ")).replaceAll("#");
        return safe.length() <= max ? safe : safe.substring(0, max) + "…";
    }

    /**
     * {@code text} without the secrets a library's message may quote from a setting: URL
     * parameters such as {@code password=}, a URL's {@code user:password@}, and the value Camel's
     * placeholder parser quotes after "from the text:". For messages shown before logging is set up
     * (a start refused), which name a setting's value as the library read it.
     */
    public static String credentials(String text) {
        if (text == null) {
            return null;
        }
        String safe = SECRET_PARAMETER.matcher(text).replaceAll("$1=***");
        safe = USER_INFO.matcher(safe).replaceAll("//***@");
        return QUOTED_VALUE.matcher(safe).replaceAll("$1(not shown)");
    }
}
