package id.ktpbridge.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Reads the result documents a run wrote. */
public final class Results {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Results() {
    }

    public static List<JsonNode> read(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".json"))
                    .filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted()
                    .map(Results::parse)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Result documents by their {@code sourceFile}. */
    public static Map<String, JsonNode> bySourceFile(Path dir) {
        return read(dir).stream().collect(Collectors.toMap(n -> n.path("sourceFile").asText(), Function.identity()));
    }

    public static long count(Path dir) {
        return read(dir).size();
    }

    public static JsonNode parse(Path file) {
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Drops a file into a folder the way a partner's copy would end: written elsewhere, then moved in. */
    public static void drop(Path inbox, String name, byte[] content) throws IOException {
        Files.createDirectories(inbox);
        Path staging = Files.createTempFile(inbox.getParent(), "staging", ".tmp");
        Files.write(staging, content);
        Files.move(staging, inbox.resolve(name));
    }
}
