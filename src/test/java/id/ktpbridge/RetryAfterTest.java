package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

import org.junit.jupiter.api.Test;

/** How a {@code Retry-After} value is read: delay-seconds or an HTTP date, within bounds callers can add to a clock. */
class RetryAfterTest {

    private static final long ONE_DAY = 86_400_000L;

    @Test
    void secondsAndDatesAreRead() {
        assertEquals(-1, RetryAfter.millis(null));
        assertEquals(-1, RetryAfter.millis(" "));
        assertEquals(-1, RetryAfter.millis("soon"));
        assertEquals(0, RetryAfter.millis("0"));
        assertEquals(120_000, RetryAfter.millis(" 120 "));
        assertEquals(0, RetryAfter.millis("Wed, 21 Oct 2015 07:28:00 GMT"), "a date passed: at once");
        long inAMinute = RetryAfter.millis(DateTimeFormatter.RFC_1123_DATE_TIME.format(
                ZonedDateTime.now(ZoneOffset.UTC).plusMinutes(1)));
        assertTrue(inAMinute > 55_000 && inAMinute <= 60_000, String.valueOf(inAMinute));
    }

    @Test
    void aNegativeDelayIsReadAsNoneSoTheNormalBackOffApplies() {
        // not 0: a retry at once, from every worker, while the server is throttling
        assertEquals(-1, RetryAfter.millis("-1"));
        assertEquals(-1, RetryAfter.millis("-86400"));
        assertEquals(-1, RetryAfter.millis(String.valueOf(Long.MIN_VALUE)));
    }

    @Test
    void aHugeDelayIsCappedSoCallersCanAddItToTheClock() {
        long now = System.currentTimeMillis();
        for (String huge : new String[] {"172800", "99999999999999999", String.valueOf(Long.MAX_VALUE),
                "99999999999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"}) {
            long wait = RetryAfter.millis(huge);
            assertEquals(ONE_DAY, wait, huge);
            assertTrue(now + wait > now, "no overflow for " + huge);
        }
        assertEquals(ONE_DAY, RetryAfter.millis("86400"));
    }
}
