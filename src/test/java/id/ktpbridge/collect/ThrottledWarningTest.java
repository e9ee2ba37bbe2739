package id.ktpbridge.collect;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import id.ktpbridge.testkit.LogCapture;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ThrottledWarningTest {

    @Test
    void aFloodOfRefusalsWritesOneLineAPeriodWithTheCountLeftOut() throws Exception {
        ThrottledWarning warning = new ThrottledWarning(LoggerFactory.getLogger(ThrottledWarningTest.class),
                "Callback refused {}", 300);
        try (LogCapture logs = new LogCapture()) {
            long first = System.currentTimeMillis();
            for (int i = 0; i < 100; i++) {
                warning.warn(i);
            }
            assertEquals(1, logs.text().split("Callback refused", -1).length - 1, logs.text());
            // the period has passed
            await().atMost(Duration.ofSeconds(2)).until(() -> System.currentTimeMillis() >= first + 350);
            warning.warn(100);
            assertEquals(2, logs.text().split("Callback refused", -1).length - 1, logs.text());
            assertTrue(logs.text().contains("Callback refused 100 (99 more since the last such line)"), logs.text());
        }
    }
}
