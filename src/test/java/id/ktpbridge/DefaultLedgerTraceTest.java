package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default H2 ledger keeps no trace file, where H2 would write a failed statement with its value. */
class DefaultLedgerTraceTest {

    @TempDir
    Path dataDir;

    @Test
    void aFailedLedgerStatementLeavesNoTraceFileWithItsValue() throws Exception {
        try (BridgeApp app = BridgeApp.start(dataDir, Map.of())) {
            try (Connection c = app.ledger().dataSource().getConnection(); Statement st = c.createStatement()) {
                // a value too long for its column, as a result document over the limit would be
                assertThrows(SQLException.class, () -> st.executeUpdate("INSERT INTO ktp_lease (name, holder,"
                        + " held_until) VALUES ('" + "3201010101010001".repeat(20) + "', 'x', 0)"));
            }
        }
        try (var files = Files.list(dataDir)) {
            List<String> names = files.map(f -> f.getFileName().toString()).toList();
            assertTrue(names.contains("ledger.mv.db"), names.toString());
            assertFalse(names.stream().anyMatch(n -> n.endsWith(".trace.db")), names.toString());
        }
    }
}
