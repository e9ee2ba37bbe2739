package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import id.ktpbridge.testkit.LogCapture;
import id.ktpbridge.testkit.ManualClock;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ThrottledWarningTest {

    @Test
    void aFloodOfRefusalsWritesOneLineAPeriodWithTheCountLeftOut() throws Exception {
        // a clock moved by hand: the flood falls within one period however slowly the machine runs it
        ManualClock clock = new ManualClock(1_700_000_000_000L);
        ThrottledWarning warning = new ThrottledWarning(LoggerFactory.getLogger(ThrottledWarningTest.class),
                "Callback refused {}", 300, clock);
        try (LogCapture logs = new LogCapture()) {
            for (int i = 0; i < 100; i++) {
                warning.warn(i);
                clock.advance(Duration.ofMillis(2)); // 200 ms in all, within the period
            }
            assertEquals(1, lines(logs), logs.text());
            // a moment short of the period: still left out
            clock.advance(Duration.ofMillis(99));
            warning.warn(100);
            assertEquals(1, lines(logs), logs.text());
            // the period has passed
            clock.advance(Duration.ofMillis(1));
            warning.warn(101);
            assertEquals(2, lines(logs), logs.text());
            assertTrue(logs.text().contains("Callback refused 101 (100 more since the last such line)"), logs.text());
            // the count starts again from the line just written
            warning.warn(102);
            clock.advance(Duration.ofMillis(300));
            warning.warn(103);
            assertEquals(3, lines(logs), logs.text());
            assertTrue(logs.text().contains("Callback refused 103 (1 more since the last such line)"), logs.text());
        }
    }

    private static int lines(LogCapture logs) {
        return logs.text().split("Callback refused", -1).length - 1;
    }
}
