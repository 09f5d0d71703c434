package dev.outrider.controlplane.ca;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.controlplane.store.ConflictException;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoredResource;

import java.io.IOException;
import java.io.UncheckedIOException;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

import static java.util.Objects.requireNonNull;

/**
 * Join tokens, the bootstrap credential of the embedded mode: an operator issues one per workload
 * ({@link #issue}), hands it to the sidecar out of band, and the sidecar presents it with its first CSR.
 *
 * <p>A token is 256 random bits from {@link SecureRandom}, base64url without padding (43 characters). Only
 * its SHA-256 is kept: a copy of this object's memory (or a later persisted form) does not reveal a usable
 * token. Lookup is by that hash, so the timing of the map lookup depends on the hash of the presented
 * value, not on how many of its characters match a stored token; the entry's hash is then compared again
 * with {@link MessageDigest#isEqual} (constant time). Tokens never appear in {@code toString} or messages.
 *
 * <p>Checking a token ({@link #check}, {@link #authenticate}) spends nothing; {@link #spend} marks a single-use
 * token used atomically ({@link ConcurrentMap#compute}), so two concurrent presentations succeed at most once.
 * The certificate API spends last, after the CSR is checked and signed, so a refused request costs no token.
 * Used and expired entries are kept until {@link #purgeExpired} (run on every issue) so that a refusal can say
 * "already used" or "expired" rather than "unknown".
 *
 * <p>With a {@link Store}, every issued token (its hash, identity and expiry) and every use is written there
 * before the call returns, and the tokens are loaded from it at construction: a token handed out survives a
 * restart (also a kill -9 right after {@link #issue} returned), and a used one stays used. Control-plane replicas
 * sharing the store (etcd) accept each other's tokens: a token this process does not hold is looked up by its
 * hash, and spending writes "used" only if the stored copy is still unused (a conditional write), so a single-use
 * token is spent once among all replicas.
 *
 * <p>Thread-safe.
 */
public final class JoinTokens implements BootstrapAuthenticator {
    /** The longest a join token may live; bootstrap credentials should be short-lived. */
    public static final Duration MAX_TTL = Duration.ofDays(30);
    private static final int TOKEN_BYTES = 32;

    /** Store kind of a persisted token; never served by the API (the audit trail names a token's issue with it). */
    public static final String KIND = "JoinToken";
    /** The namespace of every stored token's key (tokens of earlier releases keep theirs until they expire). */
    static final String STORE_NAMESPACE = "outrider-system";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Clock clock;
    private final SecureRandom random;
    /** Null: tokens live in memory only. */
    private final Store store;
    /** Key: hex SHA-256 of the token. */
    private final ConcurrentMap<String, Entry> entries = new ConcurrentHashMap<>();

    /** @param storeKey where the entry is stored (tokens of earlier releases live under their namespace) */
    private record Entry(byte[] hash, WorkloadIdentity identity, Instant expiresAt, boolean singleUse, boolean used,
                         ResourceKey storeKey) {
        Entry markUsed() {
            return new Entry(hash, identity, expiresAt, singleUse, true, storeKey);
        }

        Entry markUnused() {
            return new Entry(hash, identity, expiresAt, singleUse, false, storeKey);
        }
    }

    /**
     * What {@link #issue} hands back: the token (shown once, to be given to the workload) and what it is
     * bound to.
     */
    public record Grant(BootstrapCredential.JoinToken token, WorkloadIdentity identity, Instant expiresAt,
                        boolean singleUse) {
        public Grant {
            requireNonNull(token, "token");
            requireNonNull(identity, "identity");
            requireNonNull(expiresAt, "expiresAt");
        }
    }

    /** Tokens in memory only: lost on restart. */
    public JoinTokens(Clock clock) {
        this(clock, new SecureRandom(), null);
    }

    /** Tokens kept in {@code store} as well, loaded from it now (expired ones are dropped). */
    public JoinTokens(Clock clock, Store store) {
        this(clock, new SecureRandom(), requireNonNull(store, "store"));
    }

    JoinTokens(Clock clock, SecureRandom random) {
        this(clock, random, null);
    }

    private JoinTokens(Clock clock, SecureRandom random, Store store) {
        this.clock = requireNonNull(clock, "clock");
        this.random = requireNonNull(random, "random");
        this.store = store;
        if (store != null) {
            load();
        }
    }

    private void load() {
        Instant now = clock.instant();
        for (StoredResource r : store.list(KIND, null)) {
            Entry entry = parse(r);
            if (!now.isBefore(entry.expiresAt())) {
                store.delete(r.key(), Store.ANY_VERSION);
                continue;
            }
            entries.put(HexFormat.of().formatHex(entry.hash()), entry);
        }
    }

    private static Entry parse(StoredResource r) {
        try {
            JsonNode d = JSON.readTree(r.document());
            byte[] hash = HexFormat.of().parseHex(d.path("sha256").asText());
            Instant expiresAt = Instant.parse(d.path("expiresAt").asText());
            WorkloadIdentity identity = new WorkloadIdentity(d.path("trustDomain").asText(),
                    d.path("namespace").asText(), d.path("serviceAccount").asText());
            return new Entry(hash, identity, expiresAt, d.path("singleUse").asBoolean(true),
                    d.path("used").asBoolean(false), r.key());
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("stored join token " + r.key() + " is damaged: " + e.getMessage(), e);
        }
    }

    /**
     * The stored entry of {@code hash} when this process does not hold it: a token issued, or changed, by another
     * control-plane replica sharing the store. Null when there is no store or no such token.
     */
    private Entry fromStore(byte[] hash) {
        if (store == null) {
            return null;
        }
        return store.get(key(hash)).map(JoinTokens::parse)
                .filter(e -> MessageDigest.isEqual(e.hash(), hash)).orElse(null);
    }

    /** Writes {@code entry} to the store (when there is one); returns when it is durable. */
    private void persist(Entry entry) {
        if (store != null) {
            store.put(entry.storeKey(), document(entry), Store.ANY_VERSION);
        }
    }

    private static byte[] document(Entry entry) {
        ObjectNode d = JSON.createObjectNode();
        d.put("sha256", HexFormat.of().formatHex(entry.hash()));
        d.put("trustDomain", entry.identity().trustDomain());
        d.put("namespace", entry.identity().namespace());
        d.put("serviceAccount", entry.identity().serviceAccount());
        d.put("expiresAt", entry.expiresAt().toString());
        d.put("singleUse", entry.singleUse());
        d.put("used", entry.used());
        try {
            return JSON.writeValueAsBytes(d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Where a token is stored: namespace {@code outrider-system} (so a replica that did not issue it finds it from
     * the presented token alone) and a DNS-label name from the first 160 bits of its hash (the document holds all
     * of it).
     */
    private static ResourceKey key(byte[] hash) {
        return new ResourceKey(KIND, STORE_NAMESPACE, "t" + HexFormat.of().formatHex(hash).substring(0, 40));
    }

    /** A new token for {@code identity}, valid for {@code ttl} (positive, at most {@link #MAX_TTL}). */
    public Grant issue(WorkloadIdentity identity, Duration ttl, boolean singleUse) {
        requireNonNull(identity, "identity");
        requireNonNull(ttl, "ttl");
        if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
            throw new IllegalArgumentException("join token ttl " + ttl + " must be positive and at most " + MAX_TTL);
        }
        purgeExpired();
        Instant expiresAt = clock.instant().plus(ttl);
        byte[] raw = new byte[TOKEN_BYTES];
        String token;
        byte[] hash;
        do {
            random.nextBytes(raw);
            token = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
            hash = sha256(token);
        } while (entries.putIfAbsent(HexFormat.of().formatHex(hash),
                new Entry(hash, identity, expiresAt, singleUse, false, key(hash))) != null);
        try {
            persist(entries.get(HexFormat.of().formatHex(hash)));
        } catch (RuntimeException e) {
            entries.remove(HexFormat.of().formatHex(hash)); // not durable: not handed out
            throw e;
        }
        return new Grant(new BootstrapCredential.JoinToken(token), identity, expiresAt, singleUse);
    }

    /**
     * The identity {@code token} is bound to; refuses an unknown, expired or (single use) used token. Spends
     * nothing: a request checks its token with this, does everything else that can fail, then {@link #spend}s.
     */
    public WorkloadIdentity check(String token) throws CaException {
        return admit(token, false);
    }

    /**
     * {@link #check}, and a single-use token is marked used, atomically ({@link ConcurrentMap#compute}: of
     * concurrent calls with the same token one returns, the others are refused as already used) and durably
     * (written to the store before this returns; if that write fails the token is left unused and the failure
     * thrown).
     */
    public WorkloadIdentity spend(String token) throws CaException {
        return admit(token, true);
    }

    private WorkloadIdentity admit(String token, boolean spend) throws CaException {
        requireNonNull(token, "token");
        byte[] hash = sha256(token);
        String key = HexFormat.of().formatHex(hash);
        Instant now = clock.instant();
        if (!entries.containsKey(key)) {
            Entry stored = fromStore(hash); // issued through another replica
            if (stored != null) {
                entries.putIfAbsent(key, stored);
            }
        }
        // Array: the lambda reports what it found and what it made; compute runs it atomically for this key.
        Object[] outcome = new Object[1];
        Entry[] spent = new Entry[1];
        entries.computeIfPresent(key, (k, entry) -> {
            if (!MessageDigest.isEqual(entry.hash(), hash)) {
                outcome[0] = "unknown";
                return entry;
            }
            if (!now.isBefore(entry.expiresAt())) {
                outcome[0] = "expired at " + entry.expiresAt();
                return entry;
            }
            if (entry.used()) {
                outcome[0] = "already used (single use)";
                return entry;
            }
            outcome[0] = entry.identity();
            if (spend && entry.singleUse()) {
                spent[0] = entry.markUsed();
                return spent[0];
            }
            return entry;
        });
        if (!(outcome[0] instanceof WorkloadIdentity identity)) {
            throw CaException.unauthenticated("join token refused: " + (outcome[0] == null ? "unknown" : outcome[0]));
        }
        if (spent[0] != null) {
            try {
                // Durable before the certificate is handed out (a restart does not revive it), and conditional on
                // the stored copy being unused, so that replicas sharing the store spend a token once between them.
                spendInStore(spent[0]);
            } catch (CaException e) {
                throw e; // spent elsewhere: it stays used here too
            } catch (RuntimeException e) {
                entries.replace(key, spent[0], spent[0].markUnused()); // not durably spent: not spent
                throw e;
            }
        }
        return identity;
    }

    /** Marks the stored copy of {@code used} used, unless another replica did first (then: refused). */
    private void spendInStore(Entry used) throws CaException {
        if (store == null) {
            return;
        }
        StoredResource stored = store.get(used.storeKey()).orElse(null);
        if (stored == null) {
            throw CaException.unauthenticated("join token refused: expired or withdrawn");
        }
        if (parse(stored).used()) {
            throw CaException.unauthenticated("join token refused: already used (single use)");
        }
        try {
            store.put(used.storeKey(), document(used), stored.resourceVersion());
        } catch (ConflictException e) {
            throw CaException.unauthenticated("join token refused: already used (single use)");
        }
    }

    /** {@link #check}: spends nothing. */
    @Override
    public WorkloadIdentity authenticate(BootstrapCredential credential) throws CaException {
        return check(joinToken(credential));
    }

    @Override
    public void spend(BootstrapCredential credential) throws CaException {
        spend(joinToken(credential));
    }

    private static String joinToken(BootstrapCredential credential) throws CaException {
        requireNonNull(credential, "credential");
        return switch (credential) {
            case BootstrapCredential.JoinToken(String value) -> value;
            case BootstrapCredential.ServiceAccountToken t ->
                    throw CaException.unauthenticated("a service-account token is not a join token");
        };
    }

    /**
     * Drops expired entries, from memory and from the store: also those other replicas sharing the store issued
     * (the control plane runs this on the replica leading its sweeps).
     */
    public void purgeExpired() {
        Instant now = clock.instant();
        for (Entry e : entries.values()) {
            if (!now.isBefore(e.expiresAt()) && entries.remove(HexFormat.of().formatHex(e.hash()), e) && store != null) {
                store.delete(e.storeKey(), Store.ANY_VERSION);
            }
        }
        if (store != null) {
            for (StoredResource r : store.list(KIND, null)) {
                try {
                    if (!now.isBefore(parse(r).expiresAt())) {
                        store.delete(r.key(), r.resourceVersion());
                    }
                } catch (ConflictException e) {
                    // spent or purged by another replica meanwhile: the next sweep sees it again
                }
            }
        }
    }

    /** The hex SHA-256 hashes held: all that is stored of the tokens (for tests). */
    Set<String> storedHashes() {
        return Set.copyOf(entries.keySet());
    }

    @Override
    public String toString() {
        return "JoinTokens[entries=" + entries.size() + "]";
    }

    static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
