package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class H2FileUrlsTest {

    @Test
    void fileUrlsGetTheAsyncFileSystemAndNoCompactionAtClose() {
        assertEquals("jdbc:h2:async:/data/ledger;RETENTION_TIME=1000;MAX_COMPACT_TIME=0",
                H2FileUrls.forLedger("jdbc:h2:file:/data/ledger;RETENTION_TIME=1000"));
        assertEquals("jdbc:h2:async:./data/ledger;MAX_COMPACT_TIME=0", H2FileUrls.forLedger("jdbc:h2:./data/ledger"));
        assertEquals("jdbc:h2:async:~/ledger;MAX_COMPACT_TIME=0", H2FileUrls.forLedger("jdbc:h2:~/ledger"));
        assertEquals("jdbc:h2:async:C:/data/ledger;MAX_COMPACT_TIME=0",
                H2FileUrls.forLedger("jdbc:h2:file:C:/data/ledger"));
    }

    @Test
    void aCompactionTimeTheUrlSetsIsKept() {
        assertEquals("jdbc:h2:async:/data/ledger;max_compact_time=500",
                H2FileUrls.forLedger("jdbc:h2:file:/data/ledger;max_compact_time=500"));
    }

    @Test
    void aFileSystemTheUrlChoseIsKeptAndGetsNoCompactionAtClose() {
        assertEquals("jdbc:h2:retry:/data/ledger;MAX_COMPACT_TIME=0", H2FileUrls.forLedger("jdbc:h2:retry:/data/ledger"));
        assertEquals("jdbc:h2:async:/data/ledger;MAX_COMPACT_TIME=0", H2FileUrls.forLedger("jdbc:h2:async:/data/ledger"));
    }

    @Test
    void databasesThatAreNoLocalFileAreLeftAlone() {
        for (String unchanged : new String[] {"jdbc:h2:mem:x;DB_CLOSE_DELAY=-1", "jdbc:h2:tcp://db/ledger",
                "jdbc:h2:ssl://db/ledger", "jdbc:h2:zip:/data/ledger.zip!/ledger", "jdbc:postgresql://db/ktp"}) {
            assertEquals(unchanged, H2FileUrls.forLedger(unchanged));
        }
    }
}
