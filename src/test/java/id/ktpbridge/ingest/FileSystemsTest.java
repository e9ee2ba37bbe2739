package id.ktpbridge.ingest;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import id.ktpbridge.testkit.BridgeApp;
import id.ktpbridge.testkit.Results;
import id.ktpbridge.testkit.SampleImages;
import org.apache.camel.component.file.FileEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.awaitility.Awaitility.await;

/** A done folder on another file system than the drop folder is copied to, not renamed into. */
class FileSystemsTest {

    private static final Path SHM = Path.of("/dev/shm");

    @TempDir
    Path tmp;

    @Test
    void foldersNotYetMadeAreJudgedByTheirParents() throws Exception {
        assertFalse(FileSystems.apart(tmp, tmp.resolve("not/made/yet")));
        assumeTrue(Files.isDirectory(SHM) && !Files.getFileStore(SHM).equals(Files.getFileStore(tmp)),
                "needs /dev/shm on a file system of its own");
        assertTrue(FileSystems.apart(tmp, SHM.resolve("not-made-yet")));
    }

    @Test
    void theDropCopiesToADoneFolderOnAnotherFileSystemAndRenamesOtherwise() throws Exception {
        try (BridgeApp app = BridgeApp.start(tmp.resolve("same"), Map.of())) {
            assertFalse(endpoint(app).isRenameUsingCopy());
        }
        assumeTrue(Files.isDirectory(SHM) && !Files.getFileStore(SHM).equals(Files.getFileStore(tmp)),
                "needs /dev/shm on a file system of its own");
        Path done = SHM.resolve("ktp-done-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try (BridgeApp app = BridgeApp.start(tmp.resolve("apart"), Map.of("ktp.source.done-dir", done.toString()))) {
            assertTrue(endpoint(app).isRenameUsingCopy());
            Results.drop(app.inbox(), "u6401.png", SampleImages.card("u6401", "png"));
            await().atMost(java.time.Duration.ofSeconds(30)).until(() -> Files.exists(done.resolve("u6401.png"))
                    && !Files.exists(app.inbox().resolve("u6401.png")));
        } finally {
            if (Files.isDirectory(done)) {
                try (var files = Files.list(done)) {
                    for (Path f : files.toList()) {
                        Files.deleteIfExists(f);
                    }
                }
                Files.deleteIfExists(done);
            }
        }
    }

    private static FileEndpoint endpoint(BridgeApp app) {
        return (FileEndpoint) app.context().getRoute("ingest-file").getEndpoint();
    }
}
