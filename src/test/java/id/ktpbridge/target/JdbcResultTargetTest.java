package id.ktpbridge.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import id.ktpbridge.ledger.DataSources;
import id.ktpbridge.ledger.DurableFlush;
import id.ktpbridge.ledger.SchemaMigrator;
import id.ktpbridge.result.PermanentDeliveryFailure;
import id.ktpbridge.result.ResultPublisher;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.h2.jdbcx.JdbcConnectionPool;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JDBC target with values its table cannot hold as they come. */
class JdbcResultTargetTest {

    private final ObjectMapper json = new ObjectMapper();
    private final JdbcConnectionPool ds = JdbcConnectionPool.create("jdbc:h2:mem:results-" + UUID.randomUUID()
            + ";DB_CLOSE_DELAY=-1", "sa", "");
    private final JdbcResultTarget target = new JdbcResultTarget(migrated(ds), json);

    @AfterEach
    void tearDown() {
        ds.dispose();
    }

    @Test
    void longCodesFromOneKycAreCutToTheirColumnsInsteadOfBeingRefusedForEver() throws Exception {
        ObjectNode doc = document();
        doc.put("result", "A_RESULT_LONGER_THAN_SIXTEEN");
        doc.put("reasonCode", "R".repeat(100));
        doc.put("partnerUserIdType", "TYPE\u0000WITH_NUL");
        target.write(exchange(doc.toString(), "sub-1"));
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT result, reason_code, partner_user_id_type FROM ktp_result WHERE submission_id = 'sub-1'");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            assertEquals("A_RESULT_LONGER_", rs.getString(1));
            assertEquals("R".repeat(64), rs.getString(2));
            assertEquals("TYPEWITH_NUL", rs.getString(3));
        }
    }

    @Test
    void aDocumentTheTableCannotHoldIsRefusedForGoodWithoutQuotingIt() {
        ObjectNode doc = document();
        doc.put("padding", "3174" + "x".repeat(1_000_000));
        PermanentDeliveryFailure e = assertThrows(PermanentDeliveryFailure.class,
                () -> target.write(exchange(doc.toString(), "sub-2")));
        assertFalse(e.getMessage().contains("3174"), e.getMessage());
    }

    @Test
    void aRowInAResultsDatabaseOfItsOwnIsOnDiskWhenTheWriteReturns(@TempDir Path dir) throws Exception {
        DataSources.Pool pool = DataSources.create("jdbc:h2:" + dir.resolve("results"), "sa", "", 2, "results-test");
        try {
            SchemaMigrator.migrate(pool.dataSource(), "ktp_results_schema_version", "db/results",
                    List.of("V1__results.sql"));
            JdbcResultTarget own = new JdbcResultTarget(pool.dataSource(), json,
                    DurableFlush.afterEachWrite(pool.dataSource()));
            own.write(exchange(document().toString(), "sub-3"));
            // the file as a kill would leave it now: H2 still open, its background writer not waited for
            Path copy = Files.createDirectory(dir.resolve("copy")).resolve("results.mv.db");
            Files.copy(dir.resolve("results.mv.db"), copy);
            try (Connection c = DriverManager.getConnection("jdbc:h2:" + dir.resolve("copy/results"), "sa", "");
                 ResultSet rs = c.createStatement().executeQuery(
                         "SELECT COUNT(*) FROM ktp_result WHERE submission_id = 'sub-3'")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
        } finally {
            pool.closer().close();
        }
    }

    private ObjectNode document() {
        ObjectNode doc = json.createObjectNode();
        doc.put("ledgerId", UUID.randomUUID().toString());
        doc.put("status", "COMPLETED");
        doc.put("sourceType", "file");
        return doc;
    }

    private static Exchange exchange(String body, String name) {
        Exchange e = new DefaultExchange(new DefaultCamelContext());
        e.getMessage().setBody(body);
        e.getMessage().setHeader(ResultPublisher.RESULT_NAME, name);
        return e;
    }

    private static JdbcConnectionPool migrated(JdbcConnectionPool ds) {
        SchemaMigrator.migrate(ds, "ktp_results_schema_version", "db/results", List.of("V1__results.sql"));
        return ds;
    }
}
