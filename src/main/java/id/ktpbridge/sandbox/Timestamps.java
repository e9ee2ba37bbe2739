package id.ktpbridge.sandbox;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** ISO-8601 UTC timestamps at second precision, as in the reference examples. */
final class Timestamps {

    private Timestamps() { }

    static String iso(Instant instant) {
        return instant == null ? null : instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
