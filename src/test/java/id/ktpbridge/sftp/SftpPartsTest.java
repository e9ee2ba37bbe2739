package id.ktpbridge.sftp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import com.fasterxml.jackson.databind.ObjectMapper;
import id.ktpbridge.ingest.FileSidecar;
import id.ktpbridge.ingest.InputHeaders;
import id.ktpbridge.testkit.LogCapture;
import org.apache.camel.Exchange;
import org.apache.camel.component.file.GenericFileOperationFailedException;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.Test;

/** The pieces of the SFTP source that need no server: sidecar rules, remote paths, settings text. */
class SftpPartsTest {

    private final FileSidecar rules = new FileSidecar(new ObjectMapper(), null, null);

    private Exchange applied(String json) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        rules.apply(exchange, json);
        return exchange;
    }

    private static String header(Exchange e, String name) {
        return e.getMessage().getHeader(name, String.class);
    }

    @Test
    void aFileOperationsFailureIsToldByItsStatusOnlyAndPathsAreTakenLiterally() {
        // JSch puts the path in a file operation's message; a file name may hold a NIK
        com.jcraft.jsch.SftpException notUnique = new com.jcraft.jsch.SftpException(4,
                "/inbox/3201234567890001?.json is not unique: []");
        assertEquals("SFTP status 4 (failure)", SftpConnector.safe(notUnique));
        assertEquals("SFTP status 2 (no such file)", SftpConnector.safe(new java.io.IOException("wrapped",
                new com.jcraft.jsch.SftpException(2, "/inbox/3201234567890001.json"))));
        assertEquals("Auth fail", SftpConnector.safe(new com.jcraft.jsch.JSchException("Auth fail")),
                "a connection's own message stays");
        assertEquals("/in/a\\?b\\*c\\\\d.png", SftpConnector.literal("/in/a?b*c\\d.png"));
        assertEquals("/in/u1.png", SftpConnector.literal("/in/u1.png"));
        assertEquals("SFTP status 2 (no such file)", SftpPollErrors.rootCause(new IllegalStateException("listing",
                new com.jcraft.jsch.SftpException(2, "/inbox/3201234567890001/"))), "a failed listing's line");
        assertEquals("ConnectException: Connection refused",
                SftpPollErrors.rootCause(new IllegalStateException(new java.net.ConnectException("Connection refused"))));
    }

    @Test
    void failuresAreLoggedAtDebugWithoutTheNamesInCamelsMessages() {
        String nik = "3201234567890001";
        String logger = SftpPollErrors.class.getName();
        Level before = org.apache.logging.log4j.LogManager.getLogger(logger).getLevel();
        DefaultCamelContext context = new DefaultCamelContext();
        SftpPollErrors errors = new SftpPollErrors(context, "sftp://127.0.0.1:22", 10_000, new UnreadableFiles("inbox"));
        Configurator.setLevel(logger, Level.DEBUG);
        try (LogCapture log = new LogCapture()) {
            // a download that broke off (Camel's message names the file), a refused sub-folder listing, a failed poll
            errors.handleException("download", new DefaultExchange(context), new GenericFileOperationFailedException(
                    "Cannot retrieve file: inbox/" + nik + ".png", new com.jcraft.jsch.SftpException(4,
                            "inbox/" + nik + ".png")));
            errors.handleException(new GenericFileOperationFailedException("Cannot list directory: inbox/" + nik,
                    new com.jcraft.jsch.SftpException(3, "Permission denied")));
            errors.handleException(new GenericFileOperationFailedException("Cannot change directory to: inbox/" + nik,
                    new java.net.SocketException("Connection reset")));

            assertTrue(log.text().contains("SFTP download failure: " + GenericFileOperationFailedException.class.getName()
                    + " caused by com.jcraft.jsch.SftpException (SFTP status 4 (failure)) at "), log.text());
            assertTrue(log.text().contains("SFTP sub-folder listing refused: "), log.text());
            assertTrue(log.text().contains("SFTP poll failure: " + GenericFileOperationFailedException.class.getName()
                    + " caused by java.net.SocketException at "), log.text());
            assertFalse(log.text().contains(nik), "a file or folder name (it may be a NIK) is in the log: " + log.text());
        } finally {
            Configurator.setLevel(logger, before);
        }
    }

    @Test
    void sidecarRulesAreTheFileSourcesRules() {
        Exchange ok = applied("{\"partnerUserId\":\"c-1\",\"partnerUserIdType\":\"T\",\"metadata\":{\"k\":\"v\"}}");
        assertEquals("c-1", header(ok, InputHeaders.PARTNER_USER_ID));
        assertEquals("T", header(ok, InputHeaders.PARTNER_USER_ID_TYPE));
        assertEquals("{\"k\":\"v\"}", header(ok, InputHeaders.METADATA));
        assertNull(header(ok, InputHeaders.SIDECAR_ERROR));

        Exchange empty = applied("{}");
        assertNull(header(empty, InputHeaders.PARTNER_USER_ID));
        assertNull(header(empty, InputHeaders.SIDECAR_ERROR));

        assertEquals("the sidecar is not valid JSON", header(applied("{ nope"), InputHeaders.SIDECAR_ERROR));
        assertEquals("the sidecar is not a JSON object", header(applied("[1]"), InputHeaders.SIDECAR_ERROR));
        assertEquals("the sidecar is not a JSON object", header(applied(""), InputHeaders.SIDECAR_ERROR));
        assertEquals("'partnerUserId' must be a string", header(applied("{\"partnerUserId\":7}"), InputHeaders.SIDECAR_ERROR));
        assertEquals("'metadata' must be a JSON object", header(applied("{\"metadata\":\"x\"}"), InputHeaders.SIDECAR_ERROR));
        assertEquals(FileSidecar.TOO_LARGE,
                header(applied("{\"a\":\"" + "x".repeat(70_000) + "\"}"), InputHeaders.SIDECAR_ERROR));

        // a byte-order mark before the JSON, as Windows editors write it
        Exchange marked = applied("\uFEFF{\"partnerUserId\":\"c-2\"}");
        assertEquals("c-2", header(marked, InputHeaders.PARTNER_USER_ID));
        assertNull(header(marked, InputHeaders.SIDECAR_ERROR));
        // under the limit as sent, over it as the ledger would keep it (1e-7 is written 1.0E-7)
        String numbers = "1e-7,".repeat(12_000);
        String grows = "{\"metadata\":{\"a\":[" + numbers.substring(0, numbers.length() - 1) + "]}}";
        assertTrue(grows.length() < FileSidecar.MAX_SIDECAR_BYTES);
        assertEquals(FileSidecar.TOO_LARGE, header(applied(grows), InputHeaders.SIDECAR_ERROR));
    }

    @Test
    void sidecarOfAnImageIsItsBaseNameDotJsonInTheSameFolder() {
        assertEquals("inbox/sub/u1.json", SftpSidecar.sidecarOf("inbox/sub/u1.png"));
        assertEquals("u1.json", SftpSidecar.sidecarOf("u1.jpeg"));
        assertEquals("inbox/a.b.json", SftpSidecar.sidecarOf("inbox/a.b.JPG"));
    }

    @Test
    void foldersAreRelativeToTheInboxAndNormalised() {
        assertEquals("inbox/.done", SftpSettings.resolve("inbox", ".done"));
        assertEquals("drop/done", SftpSettings.resolve("drop/ktp", "../done"));
        assertEquals(".failed", SftpSettings.resolve(".", ".failed"));
        assertEquals("a/b/c", SftpSettings.normalize("a//./b/c/"));
        assertEquals("../x", SftpSettings.normalize("a/../../x"));
    }

    @Test
    void settingsTextNamesNoSecret() {
        SftpSettings s = new SftpSettings("h", 22, "u", "pw-secret", "/k", "pass-secret", "yes", "/kh", "inbox",
                ".done", ".failed", false, Duration.ofSeconds(1), null, null);
        assertFalse(s.toString().contains("secret"), s.toString());
        assertTrue(s.toString().contains("auth=key+password"), s.toString());
        assertEquals("ktp.source.sftp.password (KTP_SOURCE_SFTP_PASSWORD)", SftpSettings.named(SftpSettings.PASSWORD));
    }

    @Test
    void aFileIsClaimedOnlyOnceSeenUnchangedForTheMinimumAgeByTheBundlesOwnClock() {
        long[] now = {1_000_000};
        SftpRecentlyChanged filter = new SftpRecentlyChanged(5_000, f -> true, () -> now[0]);
        org.apache.camel.component.file.GenericFile<org.apache.camel.component.file.remote.SftpRemoteFile<?>> file =
                new org.apache.camel.component.file.GenericFile<>();
        file.setAbsoluteFilePath("/inbox/u1.jpg");
        file.setFileLength(1_000);
        // a server clock an hour behind: the upload in progress looks an hour old
        file.setLastModified(now[0] - 3_600_000);
        org.junit.jupiter.api.Assertions.assertFalse(filter.accept(file), "first seen now");
        now[0] += 4_000;
        file.setFileLength(2_000);
        org.junit.jupiter.api.Assertions.assertFalse(filter.accept(file), "grew since");
        now[0] += 4_000;
        org.junit.jupiter.api.Assertions.assertFalse(filter.accept(file), "unchanged for 4 s only");
        now[0] += 1_000;
        org.junit.jupiter.api.Assertions.assertTrue(filter.accept(file), "unchanged for 5 s");
        file.setLastModified(file.getLastModified() + 1_000);
        org.junit.jupiter.api.Assertions.assertFalse(filter.accept(file), "written again at the same size");

        file.setDirectory(true);
        org.junit.jupiter.api.Assertions.assertTrue(filter.accept(file), "folders are walked whatever their time");
        org.junit.jupiter.api.Assertions.assertFalse(new SftpRecentlyChanged(0, f -> false).accept(file),
                "the next filter has its say");
        file.setDirectory(false);
        org.junit.jupiter.api.Assertions.assertTrue(new SftpRecentlyChanged(0, f -> true).accept(file),
                "with no minimum age the read lock checks instead");

        now[0] += 11 * 60_000;
        org.junit.jupiter.api.Assertions.assertFalse(filter.accept(new org.apache.camel.component.file.GenericFile<>() {
            {
                setAbsoluteFilePath("/inbox/u2.jpg");
            }
        }));
        org.junit.jupiter.api.Assertions.assertEquals(1, filter.remembered(), "files no longer listed are forgotten");
    }

    @Test
    void aNameThatWasNoUtf8IsLeftOnTheServer() {
        SftpUnsafeNames filter = new SftpUnsafeNames(false, java.util.regex.Pattern.compile("(?i).*\\.png"), f -> true);
        org.apache.camel.component.file.GenericFile<org.apache.camel.component.file.remote.SftpRemoteFile<?>> file =
                new org.apache.camel.component.file.GenericFile<>();
        file.setFileNameOnly("u1\uFFFD.png");
        org.junit.jupiter.api.Assertions.assertFalse(filter.accept(file), "its listed name leads to no file");
        file.setFileNameOnly("u1-\u00e9.png");
        org.junit.jupiter.api.Assertions.assertTrue(filter.accept(file), "other non-ASCII names are fine");
    }
}
