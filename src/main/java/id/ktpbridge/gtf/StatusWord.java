package id.ktpbridge.gtf;

import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * OneKYC's status words as this bundle compares them: trimmed and in upper case. The reference
 * writes them so, but nothing promises a server does, and a {@code "completed"} read as some
 * other word would leave every submission open until its deadline.
 */
public final class StatusWord {

    private StatusWord() {
    }

    /** The word trimmed and upper-cased; null stays null. */
    public static String of(String word) {
        return word == null ? null : word.trim().toUpperCase(Locale.ROOT);
    }

    /**
     * An answer's {@code status} field, when it is text, put in that form where it stands, so what
     * reads the answer later (a result's status among them) sees the same word.
     */
    public static JsonNode normalise(JsonNode answer) {
        if (answer instanceof ObjectNode object && object.path("status").isTextual()) {
            object.put("status", of(object.get("status").asText()));
        }
        return answer;
    }
}
