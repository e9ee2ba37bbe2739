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
}
