package conformance;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/** Assertions that stop the run with a message naming what differed. */
final class Check {
    /** Timestamps the emulator sends must be this close to the local clock. */
    static final Duration RECENT = Duration.ofMinutes(1);

    private static int passed;

    private Check() {}

    /** A failed check: the message says what was expected and what was seen. */
    static final class Mismatch extends RuntimeException {
        Mismatch(String message) {
            super(message);
        }
    }

    static int passed() {
        return passed;
    }

    static void that(boolean condition, String what) {
        if (!condition) {
            throw new Mismatch(what);
        }
        passed++;
    }

    static void equal(Object expected, Object actual, String what) {
        that(Objects.equals(expected, actual), what + ": expected <" + expected + ">, got <" + actual + ">");
    }

    static void bytes(byte[] expected, byte[] actual, String what) {
        if (!Arrays.equals(expected, actual)) {
            throw new Mismatch(what + ": expected " + expected.length + " bytes " + preview(expected)
                + ", got " + (actual == null ? "null" : actual.length + " bytes " + preview(actual)));
        }
        passed++;
    }

    /** The instant is within {@link #RECENT} of now (and so not in 1970, nor 1000x too late). */
    static void recent(Instant at, String what) {
        that(at != null, what + " is missing");
        Duration off = Duration.between(Instant.now(), at).abs();
        that(off.compareTo(RECENT) <= 0, what + " should be within " + RECENT.toSeconds()
            + " s of now (" + Instant.now() + "), got " + at);
    }

    static String preview(byte[] b) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < Math.min(b.length, 16); i++) {
            s.append(String.format("%02x", b[i]));
        }
        return s.append(b.length > 16 ? "...]" : "]").toString();
    }
}
