package id.ktpbridge;

import java.util.LinkedHashMap;
import java.util.Map;

/** A map of what was met most recently: past {@code max} entries, the one touched longest ago goes. Not thread-safe. */
public final class Lru {

    private Lru() {
    }

    public static <K, V> Map<K, V> map(int max) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > max;
            }
        };
    }
}
