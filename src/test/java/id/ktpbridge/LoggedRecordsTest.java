package id.ktpbridge;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import id.ktpbridge.gtf.CallContext;
import id.ktpbridge.gtf.TokenKey;
import id.ktpbridge.ingest.ImageInspector.Inspection;
import id.ktpbridge.ingest.PartnerUserResolver.PartnerUser;
import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.NewInput;
import id.ktpbridge.ledger.SubmissionState;
import org.junit.jupiter.api.Test;

/**
 * The records Camel may print (bean arguments at TRACE, traced bodies and properties) name ids and
 * state only: no partner user id, file name, error text or result document.
 */
class LoggedRecordsTest {

    private static final String USER_ID = "3201234567890001";
    private static final String FILE = "KTP budi santoso 3201234567890002.png";
    private static final String RESULT = "{\"ktpData\":{\"nik\":\"3201234567890003\",\"name\":\"BUDI SANTOSO\"}}";
    private static final String ERROR = "OneKYC refused user 3201234567890004";
    private static final List<String> PERSONAL = List.of(USER_ID, FILE, "budi", "BUDI", "3201234567890",
            "ktpData", "refused user");

    private static void leavesOutPersonalData(Object record, String... carried) {
        String text = record.toString();
        for (String value : PERSONAL) {
            assertFalse(text.contains(value), text + " names " + value);
        }
        for (String value : carried) {
            assertTrue(text.contains(value), text + " lacks " + value);
        }
    }

    @Test
    void ledgerRecordNamesItsIdsAndState() {
        LedgerRecord r = new LedgerRecord("ledger-1", "sftp", "sftp://host:22/inbox/" + FILE, FILE, "ab".repeat(32),
                10L, "image/png", "PARTNER", USER_ID, "PARTNER_USER_ID", "ps-1", "sdk-1", "sub-1",
                SubmissionState.FAILED, "INVALID_KTP", ERROR, "{\"note\":\"" + USER_ID + "\"}", 1L, "callback", 2, 3L,
                4L, 5L, 6L, "COMPLETED", RESULT, 7L, 8L);
        leavesOutPersonalData(r, "ledger-1", "sub-1", "FAILED", "INVALID_KTP", "COMPLETED");
    }

    @Test
    void newInputNamesItsId() {
        NewInput input = new NewInput("ledger-2", "file", "file:/in/" + FILE, FILE, "ab".repeat(32), 10L, "image/png",
                "PARTNER", USER_ID, "PARTNER_USER_ID", "ps-2", "sdk-2", "{\"note\":\"" + USER_ID + "\"}");
        leavesOutPersonalData(input, "ledger-2", "file", "image/png");
    }

    @Test
    void tokenOwnersAndCallsNameNoUser() {
        TokenKey user = new TokenKey("PARTNER", USER_ID, "PARTNER_USER_ID");
        leavesOutPersonalData(user, "PARTNER", "PARTNER_USER_ID");
        leavesOutPersonalData(TokenKey.partner("PARTNER"), "PARTNER");
        leavesOutPersonalData(new CallContext(user, "ps-3", "sdk-3"), "ps-3", "sdk-3", "PARTNER_USER_ID");
        leavesOutPersonalData(new PartnerUser(USER_ID, "PARTNER_USER_ID"), "PARTNER_USER_ID");
    }

    @Test
    void inspectionNamesNoFile() {
        leavesOutPersonalData(new Inspection(Path.of("/work", FILE), 10, "ab".repeat(32), "image/png", null, null),
                "image/png", "10");
    }
}
