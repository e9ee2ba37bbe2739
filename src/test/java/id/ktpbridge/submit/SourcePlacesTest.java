package id.ktpbridge.submit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Path;

import id.ktpbridge.ledger.LedgerRecord;
import id.ktpbridge.ledger.SubmissionState;
import org.junit.jupiter.api.Test;

/** Whether a source of this configuration takes a ledger row's input again, by the references the ingest routes write. */
class SourcePlacesTest {

    private static final Path DROP = Path.of("/srv/ktp/inbox");

    @Test
    void theFileDropReadsItsOwnFolderOnly() {
        SourcePlaces on = new SourcePlaces(true, DROP, false, "", "inbox", false, false, "", "");
        assertNull(on.unread(row("file", "file:/srv/ktp/inbox/u1.png")));
        assertNull(on.unread(row("file", "file:/srv/ktp/./inbox//u1.png")));
        assertEquals("its file is not in ktp.source.dir", on.unread(row("file", "file:/srv/ktp/inbox/old/u1.png")));
        assertEquals("its file is not in ktp.source.dir", on.unread(row("file", "file:/mnt/inbox/u1.png")));
        assertEquals("the file drop is off (ktp.source.file.enabled)", new SourcePlaces(false, DROP, false, "", "inbox",
                false, false, "", "").unread(row("file", "file:/srv/ktp/inbox/u1.png")));
        // a route of one's own that calls its inputs file but names them otherwise is not judged
        assertNull(on.unread(row("file", "u1.png")));
    }

    @Test
    void theSftpSourceReadsItsFolderOnItsServer() {
        SourcePlaces flat = new SourcePlaces(false, DROP, true, "Sftp.Example:22", "./inbox/", false, false, "", "");
        assertNull(flat.unread(row("sftp", "sftp://sftp.example:22/inbox/u1.png")));
        assertEquals("its file is not in ktp.source.sftp.directory",
                flat.unread(row("sftp", "sftp://sftp.example:22/inbox/branch-a/u1.png")));
        assertEquals("its file is not in ktp.source.sftp.directory",
                flat.unread(row("sftp", "sftp://sftp.example:22/old-inbox/u1.png")));
        assertEquals("its file is on another server than ktp.source.sftp.host and ktp.source.sftp.port",
                flat.unread(row("sftp", "sftp://sftp.example:2222/inbox/u1.png")));
        SourcePlaces recursive = new SourcePlaces(false, DROP, true, "sftp.example:22", "inbox", true, false, "", "");
        assertNull(recursive.unread(row("sftp", "sftp://sftp.example:22/inbox/branch-a/u1.png")));
        assertEquals("its file is not in ktp.source.sftp.directory",
                recursive.unread(row("sftp", "sftp://sftp.example:22/inbox-2/u1.png")));
        SourcePlaces login = new SourcePlaces(false, DROP, true, "sftp.example:22", ".", false, false, "", "");
        assertNull(login.unread(row("sftp", "sftp://sftp.example:22/u1.png")));
        assertEquals("the SFTP source is off (ktp.source.sftp.enabled)", new SourcePlaces(true, DROP, false, "", "inbox",
                false, false, "", "").unread(row("sftp", "sftp://sftp.example:22/inbox/u1.png")));
    }

    @Test
    void theS3SourceReadsItsPrefixInItsBucket() {
        SourcePlaces on = new SourcePlaces(false, DROP, false, "", "inbox", false, true, "ktp-in", "inbox/");
        assertNull(on.unread(row("s3", "s3://ktp-in/inbox/u1.png")));
        assertNull(on.unread(row("s3", "s3://ktp-in/inbox/branch/u1.png")));
        assertEquals("its object is not under ktp.source.s3.prefix in ktp.source.s3.bucket",
                on.unread(row("s3", "s3://ktp-in/incoming/u1.png")));
        assertEquals("its object is not under ktp.source.s3.prefix in ktp.source.s3.bucket",
                on.unread(row("s3", "s3://ktp-old/inbox/u1.png")));
        assertNull(new SourcePlaces(false, DROP, false, "", "inbox", false, true, "ktp-in", "")
                .unread(row("s3", "s3://ktp-in/anywhere/u1.png")));
        assertEquals("the S3 source is off (ktp.source.s3.enabled)", new SourcePlaces(true, DROP, false, "", "inbox",
                false, false, "", "inbox/").unread(row("s3", "s3://ktp-in/inbox/u1.png")));
    }

    @Test
    void aSourceTypeOfOnesOwnIsNeverJudged() {
        assertNull(new SourcePlaces(false, DROP, false, "", "inbox", false, false, "", "")
                .unread(row("kafka", "kafka://topic/1")));
    }

    private static LedgerRecord row(String type, String ref) {
        return new LedgerRecord("id", type, ref, "u1.png", null, 1L, "image/png", "P", "u1", "T", "ps", "sdk", null,
                SubmissionState.RECEIVED, null, null, null, null, null, 0, null, null, null, null, null, null, null, 0);
    }
}
