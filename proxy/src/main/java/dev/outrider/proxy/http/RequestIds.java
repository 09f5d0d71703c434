package dev.outrider.proxy.http;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Request ids: random (version 4) UUIDs from the thread's {@link ThreadLocalRandom}. They need to be unique,
 * not unpredictable, so the event loop does not contend on {@code SecureRandom} as {@link UUID#randomUUID()}
 * would.
 */
public final class RequestIds {
    private RequestIds() {
    }

    public static String next() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        long msb = (r.nextLong() & ~0xF000L) | 0x4000L;                 // version 4
        long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L; // IETF variant
        return new UUID(msb, lsb).toString();
    }
}
