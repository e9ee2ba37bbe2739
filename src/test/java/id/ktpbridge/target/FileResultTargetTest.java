package id.ktpbridge.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import id.ktpbridge.result.PermanentDeliveryFailure;
import id.ktpbridge.result.ResultPublisher;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileResultTargetTest {

    @TempDir
    Path dir;

    private static Exchange result(String name, String body) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setHeader(ResultPublisher.RESULT_NAME, name);
        exchange.getMessage().setBody(body);
        return exchange;
    }

    /** The folder's files, but for the target's marker. */
    private List<String> files(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> !n.equals(FileResultTarget.MARKER)).sorted()
                    .collect(Collectors.toList());
        }
    }

    @Test
    void writesTheDocumentUnderItsNameAndLeavesNoTemporaryFile() throws Exception {
        Path results = Files.createDirectories(dir.resolve("results"));
        Exchange exchange = result("sub-1", "{\"nama\":\"Budi Ñ\"}");
        new FileResultTarget(results, true).write(exchange);

        assertEquals(List.of("sub-1.json"), files(results));
        assertEquals("{\"nama\":\"Budi Ñ\"}", Files.readString(results.resolve("sub-1.json"), StandardCharsets.UTF_8));
        assertEquals(results.resolve("sub-1.json").toAbsolutePath().toString(),
                exchange.getMessage().getHeader(Exchange.FILE_NAME_PRODUCED));
    }

    @Test
    void aSecondDeliveryReplacesTheFirstWhole() throws Exception {
        FileResultTarget target = new FileResultTarget(dir, false);
        target.write(result("sub-2", "{\"v\":\"a much longer first document\"}"));
        target.write(result("sub-2", "{\"v\":2}"));

        assertEquals(List.of("sub-2.json"), files(dir));
        assertEquals("{\"v\":2}", Files.readString(dir.resolve("sub-2.json")));
    }

    @Test
    void temporaryFilesLeftByAKilledWriterAreRemovedAtStartOnceAnHourOld() throws Exception {
        Path old = Files.writeString(dir.resolve(".writing-sub-4-1a2b.tmp"), "{\"half");
        Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(
                System.currentTimeMillis() - java.time.Duration.ofHours(2).toMillis()));
        // another replica's, being written now
        Files.writeString(dir.resolve(".writing-sub-5-3c4d.tmp"), "{\"now");
        Files.writeString(dir.resolve("sub-6.json"), "{}");

        new FileResultTarget(dir, true);
        assertEquals(List.of(".writing-sub-5-3c4d.tmp", "sub-6.json"), files(dir));
    }

    @Test
    void aNameThatLeavesTheFolderIsRefusedForGood() throws Exception {
        Path results = Files.createDirectories(dir.resolve("results"));
        FileResultTarget target = new FileResultTarget(results, true);
        for (String name : new String[] {"../escape", "a/b", ".hidden", "", null}) {
            assertThrows(PermanentDeliveryFailure.class, () -> target.write(result(name, "{}")), String.valueOf(name));
        }
        assertEquals(List.of("results"), files(dir));
        assertEquals(List.of(), files(results));
    }

    @Test
    void aFolderGoneAfterTheStartIsNotMadeAgainAndTheResultWaits() throws Exception {
        // a share mounted at share/: gone, it leaves the mount point behind on the local disk
        Path results = Files.createDirectories(dir.resolve("share/results"));
        FileResultTarget target = new FileResultTarget(results, true);
        Path away = Files.move(results, dir.resolve("away"));

        IOException e = assertThrows(IOException.class, () -> target.write(result("sub-9", "{}")));
        assertTrue(e.getMessage().contains("the results folder (ktp.results.dir) is not there"), e.getMessage());
        assertTrue(Files.notExists(results), "not made again on the local disk");

        Files.move(away, results);
        target.write(result("sub-9", "{}"));
        assertEquals(List.of("sub-9.json"), files(results));
    }

    @Test
    void aFolderOtherThanTheOneSeenAtStartTakesNoResultUntilItIsBack() throws Exception {
        Path share = Files.createDirectories(dir.resolve("share"));
        // the mount point under the share, marked by a start made while the share was not mounted
        Path mountPoint = Files.createDirectories(dir.resolve("mount-point"));
        new FileResultTarget(mountPoint, true);
        Path results = Files.createSymbolicLink(dir.resolve("results"), share);
        FileResultTarget target = new FileResultTarget(results, true);
        target.write(result("sub-10", "{}"));
        assertTrue(Files.exists(share.resolve(FileResultTarget.MARKER)), "the folder is marked at start");
        // the share goes away: the path leads to the mount point
        Files.delete(results);
        Files.createSymbolicLink(results, mountPoint);

        IOException e = assertThrows(IOException.class, () -> target.write(result("sub-11", "{}")));
        assertTrue(e.getMessage().contains("is not the one seen at start"), e.getMessage());
        assertEquals(List.of(), files(mountPoint), "nothing hidden under the mount point");

        // mounted again: the results go on
        Files.delete(results);
        Files.createSymbolicLink(results, share);
        target.write(result("sub-11", "{}"));
        assertEquals(List.of("sub-10.json", "sub-11.json"), files(share));
    }

    @Test
    void anEmptyMountPointOnAnotherFileSystemTakesNoResult() throws Exception {
        Path shm = Path.of("/dev/shm");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm)
                && !Files.getAttribute(shm, "unix:dev").equals(Files.getAttribute(dir, "unix:dev")),
                "needs a second file system");
        Path share = Files.createDirectories(dir.resolve("share"));
        Path mountPoint = Files.createTempDirectory(shm, "ktp-results-");
        try {
            Path results = Files.createSymbolicLink(dir.resolve("results"), share);
            FileResultTarget target = new FileResultTarget(results, true);
            Files.delete(results);
            Files.createSymbolicLink(results, mountPoint);
            IOException e = assertThrows(IOException.class, () -> target.write(result("sub-12", "{}")));
            assertTrue(e.getMessage().contains("is missing and it is on another file system"), e.getMessage());
            try (Stream<Path> left = Files.list(mountPoint)) {
                assertEquals(List.of(), left.toList());
            }
        } finally {
            Files.delete(mountPoint);
        }
    }

    @Test
    void aMarkerRemovedByACleanUpIsWrittenAgainAndTheResultsGoOn() throws Exception {
        Path results = Files.createDirectories(dir.resolve("results"));
        FileResultTarget target = new FileResultTarget(results, true);
        String token = Files.readString(results.resolve(FileResultTarget.MARKER));
        Files.delete(results.resolve(FileResultTarget.MARKER));
        target.write(result("sub-13", "{}"));
        assertEquals(List.of("sub-13.json"), files(results));
        assertEquals(token, Files.readString(results.resolve(FileResultTarget.MARKER)), "the same folder's marker");
        // and a replica starting on the same folder takes the marker there
        new FileResultTarget(results, true).write(result("sub-14", "{}"));
        assertEquals(token, Files.readString(results.resolve(FileResultTarget.MARKER)));
    }

    @Test
    void aFailedWriteLeavesNeitherTheResultNorItsTemporaryFile() throws Exception {
        Path results = Files.createDirectories(dir.resolve("results"));
        // a folder where the result file should go: the rename over it fails
        Files.createDirectories(results.resolve("sub-3.json"));
        Files.writeString(results.resolve("sub-3.json").resolve("keep"), "x");
        FileResultTarget target = new FileResultTarget(results, true);

        assertThrows(IOException.class, () -> target.write(result("sub-3", "{}")));
        assertEquals(List.of("sub-3.json"), files(results));
        assertTrue(Files.isDirectory(results.resolve("sub-3.json")));
    }

    @Test
    void resultFilesAreReadableByOwnerAndGroupOnlyWhateverTheUmaskUnlessSetOtherwise() throws Exception {
        // what a file made here the plain way gets: the umask's choice (rw-r--r-- under the usual 022)
        Path plain = Files.writeString(dir.resolve("plain"), "x");
        String umasked = PosixFilePermissions.toString(Files.getPosixFilePermissions(plain));
        Files.delete(plain);

        Path results = Files.createDirectories(dir.resolve("results"));
        new FileResultTarget(results, true).write(result("sub-7", "{}"));
        assertEquals("rw-r-----", PosixFilePermissions.toString(Files.getPosixFilePermissions(results.resolve("sub-7.json"))));

        new FileResultTarget(results, false, "rw-rw-r--").write(result("sub-7", "{}"));
        assertEquals("rw-rw-r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(results.resolve("sub-7.json"))));

        new FileResultTarget(results, false, "umask").write(result("sub-8", "{}"));
        assertEquals(umasked, PosixFilePermissions.toString(Files.getPosixFilePermissions(results.resolve("sub-8.json"))));

        assertThrows(IllegalArgumentException.class, () -> new FileResultTarget(results, false, "640"));
    }
}
