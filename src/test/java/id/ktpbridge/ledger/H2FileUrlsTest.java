package id.ktpbridge.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class H2FileUrlsTest {

    @Test
    void fileUrlsGetTheAsyncFileSystemAndNoCompactionAtClose() {
        assertEquals("jdbc:h2:async:/data/ledger;RETENTION_TIME=1000;MAX_COMPACT_TIME=0;TRACE_LEVEL_FILE=0",
                H2FileUrls.forLedger("jdbc:h2:file:/data/ledger;RETENTION_TIME=1000"));
        assertEquals("jdbc:h2:async:./data/ledger;MAX_COMPACT_TIME=0;TRACE_LEVEL_FILE=0", H2FileUrls.forLedger("jdbc:h2:./data/ledger"));
        assertEquals("jdbc:h2:async:~/ledger;MAX_COMPACT_TIME=0;TRACE_LEVEL_FILE=0", H2FileUrls.forLedger("jdbc:h2:~/ledger"));
        assertEquals("jdbc:h2:async:C:/data/ledger;MAX_COMPACT_TIME=0;TRACE_LEVEL_FILE=0",
                H2FileUrls.forLedger("jdbc:h2:file:C:/data/ledger"));
    }

    @Test
    void aCompactionTimeTheUrlSetsIsKept() {
        assertEquals("jdbc:h2:async:/data/ledger;max_compact_time=500;TRACE_LEVEL_FILE=0",
                H2FileUrls.forLedger("jdbc:h2:file:/data/ledger;max_compact_time=500"));
    }

    @Test
    void aFileSystemTheUrlChoseIsKeptAndGetsNoCompactionAtClose() {
        assertEquals("jdbc:h2:retry:/data/ledger;MAX_COMPACT_TIME=0;TRACE_LEVEL_FILE=0", H2FileUrls.forLedger("jdbc:h2:retry:/data/ledger"));
        assertEquals("jdbc:h2:async:/data/ledger;MAX_COMPACT_TIME=0;TRACE_LEVEL_FILE=0", H2FileUrls.forLedger("jdbc:h2:async:/data/ledger"));
    }

    @Test
    void databasesThatAreNoLocalFileAreLeftAlone() {
        for (String unchanged : new String[] {"jdbc:h2:mem:x;DB_CLOSE_DELAY=-1", "jdbc:h2:tcp://db/ledger",
                "jdbc:h2:ssl://db/ledger", "jdbc:h2:zip:/data/ledger.zip!/ledger", "jdbc:postgresql://db/ktp"}) {
            assertEquals(unchanged, H2FileUrls.forLedger(unchanged));
        }
    }

    @Test
    void aStatementErrorLeavesNoTraceFileWithItsValueBesideTheDatabase(@org.junit.jupiter.api.io.TempDir
                                                                      java.nio.file.Path dir) throws Exception {
        String url = H2FileUrls.forLedger("jdbc:h2:file:" + dir.resolve("ledger").toString().replace('\\', '/'));
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "sa", "");
             java.sql.Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (v VARCHAR(4))");
            org.junit.jupiter.api.Assertions.assertThrows(java.sql.SQLException.class,
                    () -> st.execute("INSERT INTO t VALUES ('3201010101010001')"));
        }
        try (var files = java.nio.file.Files.list(dir)) {
            java.util.List<String> names = files.map(f -> f.getFileName().toString()).toList();
            org.junit.jupiter.api.Assertions.assertTrue(names.contains("ledger.mv.db"), names.toString());
            org.junit.jupiter.api.Assertions.assertFalse(names.stream().anyMatch(n -> n.endsWith(".trace.db")),
                    names.toString());
        }
    }
}
