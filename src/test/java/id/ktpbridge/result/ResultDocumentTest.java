package id.ktpbridge.result;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;

import org.junit.jupiter.api.Test;

class ResultDocumentTest {

    @Test
    void timesAlwaysCarryMillisecondsSoTheirTextSortsAsTheTimesDo() {
        long whole = Instant.parse("2026-04-29T10:15:30Z").toEpochMilli();
        assertEquals("2026-04-29T10:15:30.000Z", ResultDocument.iso(whole));
        assertEquals("2026-04-29T10:15:30.500Z", ResultDocument.iso(whole + 500));
        assertEquals("2026-04-29T10:15:31.007Z", ResultDocument.iso(whole + 1007));
        // Instant.toString would give "...30Z" and "...30.500Z": the later one sorting first
        assertTrue(ResultDocument.iso(whole).compareTo(ResultDocument.iso(whole + 500)) < 0);
        assertNull(ResultDocument.iso(null));
    }
}
