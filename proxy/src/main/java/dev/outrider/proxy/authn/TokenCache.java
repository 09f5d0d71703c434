package dev.outrider.proxy.authn;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.github.benmanes.caffeine.cache.Ticker;

import java.security.DigestException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;

import static java.util.Objects.requireNonNull;

/**
 * Verified tokens, so a repeated token costs a SHA-256 and a lookup instead of a signature check.
 *
 * <ul>
 *   <li>Keyed by the SHA-256 of the token, never the token: a heap dump or a debugger shows no credential.</li>
 *   <li>Bounded by size (Caffeine, W-TinyLFU eviction), so a flood of distinct tokens costs memory once.</li>
 *   <li>Each entry expires at the token's {@code exp} (per-entry {@link Expiry}), capped by {@code maxTtl}
 *       so a key rotation or a policy change cannot be outlived for long. A hit is also checked against the
 *       caller's clock: at or after {@code exp} the token goes back to the verifier (which applies the
 *       clock skew and says "expired" when due).</li>
 *   <li>Only {@code Valid} results are cached; refusals are recomputed (they are cheap before the signature
 *       step, and caching them would let garbage evict good entries).</li>
 * </ul>
 * A cache belongs to one compiled verifier: a new snapshot builds a new cache, so a token verified under an
 * old policy is never served under a new one.
 */
public final class TokenCache implements TokenVerifier {
    public static final int DEFAULT_MAX_ENTRIES = 10_000;
    public static final Duration DEFAULT_MAX_TTL = Duration.ofMinutes(5);

    /**
     * 256 bits as four longs: equals/hashCode without a byte[] wrapper. A key in the cache is never changed;
     * each thread's {@link Scratch} has one more, rewritten per lookup (a lookup then allocates no key), which
     * is never stored: a key to store is a {@link #copy()}.
     */
    private static final class Sha256 {
        private long a;
        private long b;
        private long c;
        private long d;

        Sha256 copy() {
            Sha256 k = new Sha256();
            k.a = a;
            k.b = b;
            k.c = c;
            k.d = d;
            return k;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Sha256 k && a == k.a && b == k.b && c == k.c && d == k.d;
        }

        @Override
        public int hashCode() {
            return Long.hashCode(a); // the digest's bits are uniform
        }
    }

    /** The value plus the caller's clock at insertion, so the entry's lifetime is {@code exp - then}. */
    private record Entry(JwtVerifier.Result.Valid valid, long insertedAtEpochSeconds) {
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final TokenVerifier verifier;
    private final Cache<Sha256, Entry> cache;

    public TokenCache(TokenVerifier verifier) {
        this(verifier, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TTL, Ticker.systemTicker());
    }

    /** @param ticker Caffeine's clock for expiry (tests pass a fake one) */
    public TokenCache(TokenVerifier verifier, int maxEntries, Duration maxTtl, Ticker ticker) {
        this.verifier = requireNonNull(verifier, "verifier");
        requireNonNull(maxTtl, "maxTtl");
        long maxTtlNanos = maxTtl.toNanos();
        this.cache = Caffeine.newBuilder()
                // Maintenance (replaying reads and writes into the eviction policy) runs on the calling event
                // loop, a few entries at a time, instead of waking a ForkJoinPool thread every few reads:
                // the hand-off cost sidecar B ~3 % of its CPU at saturation (perf, bench/RESULTS.md).
                .executor(Runnable::run)
                .maximumSize(maxEntries)
                .ticker(requireNonNull(ticker, "ticker"))
                .expireAfter(new Expiry<Sha256, Entry>() {
                    @Override
                    public long expireAfterCreate(Sha256 key, Entry e, long currentTime) {
                        long seconds = e.valid().expiresAt() - e.insertedAtEpochSeconds();
                        return Math.max(0, Math.min(maxTtlNanos, seconds * 1_000_000_000L));
                    }

                    @Override
                    public long expireAfterUpdate(Sha256 key, Entry e, long currentTime, long currentDuration) {
                        return expireAfterCreate(key, e, currentTime);
                    }

                    @Override
                    public long expireAfterRead(Sha256 key, Entry e, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
    }

    @Override
    public JwtVerifier.Result verify(CharSequence token, long nowEpochSeconds) {
        if (token == null || token.isEmpty()) {
            return verifier.verify(token, nowEpochSeconds);
        }
        Sha256 probe = hash(token);
        Entry hit = cache.getIfPresent(probe);
        if (hit != null && nowEpochSeconds < hit.valid().expiresAt()) {
            return hit.valid();
        }
        Sha256 key = probe.copy(); // before the verifier runs on this thread: the probe is only read up to here
        JwtVerifier.Result result = verifier.verify(token, nowEpochSeconds);
        if (result instanceof JwtVerifier.Result.Valid valid && nowEpochSeconds < valid.expiresAt()) {
            cache.put(key, new Entry(valid, nowEpochSeconds));
        } else if (hit != null) {
            cache.invalidate(key);
        }
        return result;
    }

    /** Entries now (approximate, for metrics). */
    public long size() {
        return cache.estimatedSize();
    }

    void cleanUp() {
        cache.cleanUp();
    }

    /**
     * The SHA-256 of the token's ISO-8859-1 bytes (what {@code getBytes(ISO_8859_1)} gives: a character above
     * U+00FF becomes {@code ?}), digested from a per-thread scratch array instead of a copy of the token per
     * request; the scratch bytes are zeroed right after, so no copy of a credential stays behind. Returns this
     * thread's lookup key, rewritten.
     */
    private static Sha256 hash(CharSequence token) {
        Scratch s = SCRATCH.get();
        int n = token.length();
        byte[] bytes = s.bytes(n);
        for (int i = 0; i < n; i++) {
            char c = token.charAt(i);
            bytes[i] = c <= 0xff ? (byte) c : (byte) '?';
        }
        MessageDigest md = s.sha256;
        md.update(bytes, 0, n);
        Arrays.fill(bytes, 0, n, (byte) 0);
        byte[] d = s.digest;
        try {
            md.digest(d, 0, d.length);
        } catch (DigestException e) {
            throw new IllegalStateException("SHA-256 digest into 32 bytes", e);
        }
        Sha256 probe = s.probe;
        probe.a = longAt(d, 0);
        probe.b = longAt(d, 8);
        probe.c = longAt(d, 16);
        probe.d = longAt(d, 24);
        return probe;
    }

    /** One thread's digest and buffers; confined to that thread (event loop or the verifier's caller). */
    private static final class Scratch {
        final MessageDigest sha256;
        final byte[] digest = new byte[32];
        final Sha256 probe = new Sha256();
        private byte[] bytes = new byte[1024];

        Scratch() {
            try {
                sha256 = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is required of every JDK", e);
            }
        }

        /** At least {@code n} bytes; grows to the largest token seen (bounded by the header size limits). */
        byte[] bytes(int n) {
            if (bytes.length < n) {
                bytes = new byte[Math.max(n, 2 * bytes.length)];
            }
            return bytes;
        }
    }

    private static long longAt(byte[] b, int i) {
        long v = 0;
        for (int j = 0; j < 8; j++) {
            v = (v << 8) | (b[i + j] & 0xff);
        }
        return v;
    }
}
