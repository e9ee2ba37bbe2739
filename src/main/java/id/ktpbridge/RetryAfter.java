package id.ktpbridge;

import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** Reads an HTTP {@code Retry-After} value: delay-seconds or an HTTP date (RFC 9110, 10.2.3). */
public final class RetryAfter {

    private RetryAfter() {
    }

    /** The wait asked for, in milliseconds, or -1 when there is no value or it cannot be read. */
    public static long millis(String value) {
        if (value == null || value.isBlank()) {
            return -1;
        }
        String v = value.trim();
        try {
            long seconds = Long.parseLong(v);
            return seconds <= 0 ? 0 : Math.min(seconds, Long.MAX_VALUE / 1000) * 1000; // no overflow
        } catch (NumberFormatException notSeconds) {
            try {
                long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
                return Math.max(0, at - System.currentTimeMillis());
            } catch (DateTimeParseException notADate) {
                return -1;
            }
        }
    }
}
