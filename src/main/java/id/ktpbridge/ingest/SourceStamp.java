package id.ktpbridge.ingest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.Objects;

import id.ktpbridge.submit.WorkItem;
import org.apache.camel.Exchange;

/**
 * What a file in the drop folder was when its bytes were read for an input. The file consumer
 * moves whatever is at the input's path once the input is done, so a file replaced under the same
 * name meanwhile (or written to again) would go to the done or failed folder unread. Such a file
 * is left where it is instead, and taken later as an input of its own.
 */
public final class SourceStamp {

    /** Exchange property: the {@link Stamp} of the input's file. */
    static final String PROPERTY = "KtpSourceStamp";

    private record Stamp(Path path, long size, FileTime modified, Object fileKey) {
    }

    /** Before the file is opened: a change after this point shows at the end (reading it again is harmless, missing it is not). */
    public static void take(Exchange exchange, Path file) throws IOException {
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        exchange.setProperty(PROPERTY, new Stamp(file, a.size(), a.lastModifiedTime(), a.fileKey()));
    }

    /** Whether the file now at the input's path is not the one that was read (a missing one is not). */
    static boolean replaced(Exchange exchange) {
        Stamp s = exchange.getProperty(PROPERTY, Stamp.class);
        if (s == null) {
            return false;
        }
        try {
            BasicFileAttributes a = Files.readAttributes(s.path(), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            return a.size() != s.size() || !a.lastModifiedTime().equals(s.modified())
                    || !Objects.equals(a.fileKey(), s.fileKey());
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Camel bean method, once a file input is submitted: a replaced file is not moved to the done
     * folder with it. The input is let go of (its bytes were read and are being processed), and the
     * exchange ends failed ({@link SourceReplacedException}), which leaves the file in place and
     * gives up its claim ({@link FileQuarantine} leaves it alone too).
     */
    public void leaveReplaced(Exchange exchange) {
        if (replaced(exchange)) {
            String ledgerId = exchange.getProperty(WorkItem.LEDGER_ID, String.class);
            SourceRelease.letGo(exchange);
            throw new SourceReplacedException(ledgerId);
        }
    }
}
