package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import id.ktpbridge.ingest.PartnerUserResolver.PartnerUser;
import org.junit.jupiter.api.Test;

class PartnerUserResolverTest {

    // the production defaults from config/application.properties
    private static final String ALLOWED_ID = "[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}";
    private static final String ALLOWED_TYPE = "[A-Za-z0-9][A-Za-z0-9_.-]{0,63}";
    private static final String DEFAULT_TYPE = "PARTNER_USER_ID";

    private static PartnerUserResolver resolver(String namePattern) {
        return new PartnerUserResolver(namePattern, ALLOWED_ID, ALLOWED_TYPE, DEFAULT_TYPE);
    }

    private static void assertRejected(RejectReason reason, Runnable call) {
        InputRejectedException e = assertThrows(InputRejectedException.class, call::run);
        assertEquals(reason, e.reason());
    }

    @Test
    void baseNameWithoutPattern() {
        PartnerUserResolver r = resolver(null);
        assertEquals(new PartnerUser("u00017", DEFAULT_TYPE), r.resolve("u00017.png", null, null));
        assertEquals(new PartnerUser("u1", DEFAULT_TYPE), r.resolve("dir/u1.jpeg", null, null));
        assertEquals("u2", r.resolve("C:\\scans\\u2.jpg", null, null).id());
        assertEquals("u3", resolver("  ").resolve("u3.png", null, null).id(), "a blank pattern means none");
    }

    @Test
    void baseNameDropsOnlyTheLastExtension() {
        assertEquals("u1", PartnerUserResolver.baseName("a/b/u1.png"));
        assertEquals("u1.front", PartnerUserResolver.baseName("u1.front.jpg"));
        assertEquals("noext", PartnerUserResolver.baseName("noext"));
        assertEquals(".hidden", PartnerUserResolver.baseName(".hidden"));
    }

    @Test
    void withoutExtensionKeepsEverythingButTheExtension() {
        // a local file's name: a backslash is a character of it, not a folder
        assertEquals("scans\\k1", PartnerUserResolver.withoutExtension("scans\\k1.jpg"));
        assertEquals("u1.front", PartnerUserResolver.withoutExtension("u1.front.jpg"));
        assertEquals("noext", PartnerUserResolver.withoutExtension("noext"));
        assertEquals(".hidden", PartnerUserResolver.withoutExtension(".hidden"));
    }

    @Test
    void namedGroupOfThePatternIsTheUser() {
        PartnerUserResolver r = resolver("ktp_(?<user>[0-9]+)_front");
        assertEquals(new PartnerUser("123", DEFAULT_TYPE), r.resolve("ktp_123_front.jpg", null, null));
        assertEquals("9", r.resolve("in/ktp_9_front.png", null, null).id());
    }

    @Test
    void fileNameNotMatchingThePatternIsRejected() {
        PartnerUserResolver r = resolver("ktp_(?<user>[0-9]+)_front");
        assertRejected(RejectReason.INVALID_PARTNER_USER_ID, () -> r.resolve("ktp_123_back.jpg", null, null));
        assertRejected(RejectReason.INVALID_PARTNER_USER_ID, () -> r.resolve("ktp_abc_front.jpg", null, null));
        // the pattern must match the whole base name, not just a part of it
        assertRejected(RejectReason.INVALID_PARTNER_USER_ID, () -> r.resolve("old_ktp_123_front.jpg", null, null));
    }

    @Test
    void patternWithoutTheUserGroupFailsAtStartup() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> resolver("ktp_([0-9]+)_front"));
        assertTrue(e.getMessage().contains("(?<user>"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> resolver("ktp_(?<id>[0-9]+)_front"));
    }

    @Test
    void givenIdAndTypeWinOverTheFileName() {
        PartnerUserResolver r = resolver("ktp_(?<user>[0-9]+)_front");
        // the name would not even match the pattern: the given id makes it irrelevant
        assertEquals(new PartnerUser("customer-2002", "CLIENT_X_USER_ID"),
                r.resolve("whatever.jpg", "customer-2002", "CLIENT_X_USER_ID"));
        assertEquals(new PartnerUser("a.b:c@d_e", DEFAULT_TYPE), resolver(null).resolve("u1.png", "a.b:c@d_e", null));
        assertEquals(new PartnerUser("u1", "OTHER"), resolver(null).resolve("u1.png", null, "OTHER"));
    }

    @Test
    void headerBreakingOrEmptyIdsAreRejected() {
        PartnerUserResolver r = resolver(null);
        for (String bad : new String[] {"", "abc\r\nX-Injected: 1", "abc\n", "abc\r", "two words", " lead",
                "a/b", "..", "-dash-first", "x".repeat(129)}) {
            assertRejected(RejectReason.INVALID_PARTNER_USER_ID, () -> r.resolve("u1.png", bad, null));
        }
        assertEquals(128, r.resolve("u1.png", "x".repeat(128), null).id().length());
    }

    @Test
    void badFileNamesAreRejected() {
        PartnerUserResolver r = resolver(null);
        assertRejected(RejectReason.INVALID_PARTNER_USER_ID, () -> r.resolve("my scan.png", null, null));
        assertRejected(RejectReason.INVALID_PARTNER_USER_ID, () -> r.resolve(".png", null, null));
        assertRejected(RejectReason.INVALID_PARTNER_USER_ID, () -> r.resolve("dir/", null, null));
    }

    @Test
    void badTypeIsRejected() {
        PartnerUserResolver r = resolver(null);
        for (String bad : new String[] {"", "TYPE\r\n", "A TYPE", "A/B", "_LEADING", "T".repeat(65), "a:b"}) {
            assertRejected(RejectReason.INVALID_PARTNER_USER_ID_TYPE, () -> r.resolve("u1.png", null, bad));
        }
        PartnerUserResolver noDefault = new PartnerUserResolver(null, ALLOWED_ID, ALLOWED_TYPE, null);
        assertRejected(RejectReason.INVALID_PARTNER_USER_ID_TYPE, () -> noDefault.resolve("u1.png", null, null));
    }

    @Test
    void idIsCheckedBeforeType() {
        assertRejected(RejectReason.INVALID_PARTNER_USER_ID, () -> resolver(null).resolve("u1.png", "a b", "c d"));
    }

    @Test
    void aDefaultTypeTheAllowedTypesRefuseStopsTheStartInsteadOfRejectingEveryInput() {
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> new PartnerUserResolver(null, ALLOWED_ID, ALLOWED_TYPE, "CLIENT X ID"));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("gtf.partner-user-id-type"), e.getMessage());
    }

    @Test
    void aUserGroupThatTookNoPartIsSaidSo() {
        PartnerUserResolver r = resolver("(?:ktp_(?<user>[0-9]+)|scan)_front");
        InputRejectedException e = assertThrows(InputRejectedException.class, () -> r.resolve("scan_front.jpg", null, null));
        assertEquals("the group user of ktp.source.user-id-pattern took no part in the match", e.detail());
        e = assertThrows(InputRejectedException.class, () -> r.resolve("other.jpg", null, null));
        assertEquals("the file name does not match ktp.source.user-id-pattern", e.detail());
    }
}
