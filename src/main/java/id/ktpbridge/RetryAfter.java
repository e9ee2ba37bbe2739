package id.ktpbridge;

import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** Reads an HTTP {@code Retry-After} value: delay-seconds or an HTTP date (RFC 9110, 10.2.3). */
public final class RetryAfter {

    /**
     * The longest wait a {@code Retry-After} is read as. Callers add the wait to the clock (a next
     * poll, a paused target): a far longer one (up to {@code Long.MAX_VALUE} seconds) would overflow
     * there, and no server means a wait of days; the caller's own deadlines end the matter sooner.
     */
    public static final long MAX_MILLIS = Duration.ofDays(1).toMillis();

    private RetryAfter() {
    }

    /**
     * The wait asked for, in milliseconds, at most {@link #MAX_MILLIS}; -1 when there is no value or
     * it cannot be read. A negative number is no delay-seconds (only digits are): read as absent, so
     * the caller's own back-off applies rather than a retry at once while the server is throttling.
     */
    public static long millis(String value) {
        if (value == null || value.isBlank()) {
            return -1;
        }
        String v = value.trim();
        long seconds;
        try {
            seconds = Long.parseLong(v);
        } catch (NumberFormatException notSeconds) {
            if (v.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return MAX_MILLIS; // delay-seconds too long for a long
            }
            try {
                long at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
                return Math.max(0, Math.min(MAX_MILLIS, at - System.currentTimeMillis()));
            } catch (DateTimeParseException notADate) {
                return -1;
            }
        }
        if (seconds < 0) {
            return -1;
        }
        return Math.min(seconds, MAX_MILLIS / 1000) * 1000;
    }
}
