package id.ktpbridge.batch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The files in the drop folder that the file route would take, as the batch end and the ETA see them. */
public class DropFolder {

    private final Path dir;
    private final Pattern include;

    public DropFolder(Path dir, String includePattern) {
        this.dir = dir;
        this.include = Pattern.compile(includePattern);
    }

    /** How many wait there (0 when the folder is missing or cannot be listed). */
    public long waiting() {
        return count(Long.MAX_VALUE);
    }

    public boolean anyWaiting() {
        return count(1) > 0;
    }

    private long count(long enough) {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(this::takenByTheSource).filter(Files::isRegularFile).limit(enough).count();
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
    }

    /**
     * Whether the file route takes this file: its name matches {@code ktp.source.include} and is not
     * hidden (Camel's file consumer never takes a name starting with a dot, such as the {@code ._}
     * files a Mac copies next to each image).
     */
    private boolean takenByTheSource(Path file) {
        String name = file.getFileName().toString();
        return !name.startsWith(".") && include.matcher(name).matches();
    }
}
