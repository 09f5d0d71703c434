package dev.outrider.controlplane.sidecars;

import dev.outrider.core.model.DnsLabel;
import dev.outrider.controlplane.ca.WorkloadIdentity;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * What each sidecar instance last did: its registration ({@link #seen}) and what it did with the snapshot versions
 * it received ({@link #report}: ACK or NACK with the error). Shown to operators by {@link #list}; in memory only
 * (after a restart the sidecars' next registration and report fill it again).
 *
 * <p>Bounded: an instance neither registered nor reported for {@link #FORGET_AFTER_TTLS} times the registration
 * TTL is forgotten, and beyond {@code maxEntries} instances the one seen longest ago is. An instance is its
 * identity and instance name. Error texts are cut to {@link #MAX_ERROR_LENGTH} characters.
 *
 * <p>Thread-safe: one lock guards the map, which is in access order so the instance seen longest ago comes first
 * (forgetting costs one step per forgotten instance). The TTL is read outside the lock.
 */
public final class SidecarStatuses {
    public static final int MAX_ENTRIES = 10_000;
    public static final int MAX_ERROR_LENGTH = 1_000;
    public static final int FORGET_AFTER_TTLS = 10;
    private static final Pattern VERSION = Pattern.compile("0|[1-9][0-9]{0,18}");
    private static final String CUT = "... (cut)";

    private final Clock clock;
    private final Supplier<Duration> registrationTtl;
    private final int maxEntries;
    private final Object lock = new Object();
    /** Guarded by {@link #lock}; access order: the instance seen longest ago first. */
    private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);

    private record Key(WorkloadIdentity identity, String instance) {
    }

    /** Guarded by {@link #lock}. */
    private static final class Entry {
        String service;
        String address;
        Instant lastSeen;
        Long appliedVersion;
        Long nackVersion;
        String nackError;
    }

    /**
     * @param registrationTtl the current registration TTL (e.g. {@code registry::ttl}); instances are forgotten
     *                        after {@link #FORGET_AFTER_TTLS} of it
     */
    public SidecarStatuses(Clock clock, Supplier<Duration> registrationTtl) {
        this(clock, registrationTtl, MAX_ENTRIES);
    }

    SidecarStatuses(Clock clock, Supplier<Duration> registrationTtl, int maxEntries) {
        this.clock = requireNonNull(clock, "clock");
        this.registrationTtl = requireNonNull(registrationTtl, "registrationTtl");
        if (maxEntries < 1) {
            throw new IllegalArgumentException("maxEntries must be positive: " + maxEntries);
        }
        this.maxEntries = maxEntries;
    }

    /**
     * Records what the caller's sidecar did with a snapshot version.
     *
     * @param version decimal, as in the snapshot
     * @param result  {@code ACK} or {@code NACK}
     * @param error   why a NACK (optional; cut to {@link #MAX_ERROR_LENGTH}); must be absent with ACK
     * @throws IllegalArgumentException whose message starts with the field at fault ({@code version: ...})
     */
    public void report(WorkloadIdentity caller, String instance, String version, String result, String error) {
        requireNonNull(caller, "caller");
        requireInstance(instance);
        if (version == null || !VERSION.matcher(version).matches()) {
            throw new IllegalArgumentException("version: " + (version == null ? "is required"
                    : shown(version) + " is not a snapshot version (a non-negative decimal number)"));
        }
        long v;
        try {
            v = Long.parseLong(version);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("version: " + shown(version) + " is greater than " + Long.MAX_VALUE);
        }
        boolean ack = SidecarView.ACK.equals(result);
        if (!ack && !SidecarView.NACK.equals(result)) {
            throw new IllegalArgumentException("result: " + (result == null ? "is required"
                    : shown(result) + " is not ACK or NACK"));
        }
        if (ack && error != null && !error.isEmpty()) {
            throw new IllegalArgumentException("error: only a NACK carries an error");
        }
        Duration ttl = registrationTtl.get();
        synchronized (lock) {
            Entry entry = touch(new Key(caller, instance), ttl);
            if (ack) {
                entry.appliedVersion = entry.appliedVersion == null ? v : Math.max(entry.appliedVersion, v);
                if (entry.nackVersion != null && entry.nackVersion <= v) {
                    entry.nackVersion = null;
                    entry.nackError = null;
                }
            } else if ((entry.appliedVersion == null || v > entry.appliedVersion)
                    && (entry.nackVersion == null || v >= entry.nackVersion)) {
                entry.nackVersion = v;
                entry.nackError = cut(error == null ? "" : error);
            }
        }
    }

    /** Records a registration (or its refresh) of the caller's instance. */
    public void seen(WorkloadIdentity caller, String instance, String service, String address) {
        requireNonNull(caller, "caller");
        requireInstance(instance);
        requireNonNull(service, "service");
        requireNonNull(address, "address");
        Duration ttl = registrationTtl.get();
        synchronized (lock) {
            Entry entry = touch(new Key(caller, instance), ttl);
            entry.service = service;
            entry.address = address;
        }
    }

    /**
     * Every instance remembered, ordered by identity and instance.
     *
     * @param latestVersion the version the control plane has for a workload (the snapshot hub's
     *                      {@code latestVersion}); called outside the lock
     */
    public List<SidecarView> list(Function<WorkloadIdentity, OptionalLong> latestVersion) {
        requireNonNull(latestVersion, "latestVersion");
        Duration ttl = registrationTtl.get();
        record Copy(Key key, String service, String address, Instant lastSeen, Long applied, Long nack,
                    String error) {
        }
        List<Copy> copies = new ArrayList<>();
        synchronized (lock) {
            forgetOld(clock.instant(), ttl);
            for (Map.Entry<Key, Entry> e : entries.entrySet()) { // iterating does not reorder
                Entry v = e.getValue();
                copies.add(new Copy(e.getKey(), v.service, v.address, v.lastSeen, v.appliedVersion, v.nackVersion,
                        v.nackError));
            }
        }
        List<SidecarView> views = new ArrayList<>(copies.size());
        for (Copy c : copies) {
            OptionalLong latest = latestVersion.apply(c.key().identity());
            Long latestOrNull = latest.isPresent() ? latest.getAsLong() : null;
            String state;
            String error = null;
            if (c.nack() != null && (latestOrNull == null || c.nack() >= latestOrNull)) {
                state = SidecarView.NACK;
                error = c.error();
            } else if (c.applied() != null && (latestOrNull == null || c.applied() >= latestOrNull)) {
                state = SidecarView.ACK;
            } else {
                state = SidecarView.PENDING;
            }
            views.add(new SidecarView(c.key().identity().toString(), c.key().instance(), c.service(), c.address(),
                    c.lastSeen(), latestOrNull, c.applied(), state, error));
        }
        views.sort(Comparator.comparing(SidecarView::identity).thenComparing(SidecarView::instance));
        return views;
    }

    /** Under the lock: the entry of {@code key}, created if needed, seen now and moved last. */
    private Entry touch(Key key, Duration ttl) {
        Instant now = clock.instant();
        Entry entry = entries.get(key); // moves it last (access order)
        if (entry == null) {
            entry = new Entry();
            entries.put(key, entry);
        }
        entry.lastSeen = now;
        forgetOld(now, ttl);
        while (entries.size() > maxEntries) {
            Iterator<Entry> eldest = entries.values().iterator();
            eldest.next();
            eldest.remove();
        }
        return entry;
    }

    /** Under the lock: forgets instances not seen for {@link #FORGET_AFTER_TTLS} TTLs, eldest first. */
    private void forgetOld(Instant now, Duration ttl) {
        Instant cutoff = now.minus(ttl.multipliedBy(FORGET_AFTER_TTLS));
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            if (it.next().lastSeen.isAfter(cutoff)) {
                break; // access order: every later entry was seen after this one
            }
            it.remove();
        }
    }

    private static void requireInstance(String instance) {
        if (!DnsLabel.isValid(instance)) {
            throw new IllegalArgumentException("instance: " + (instance == null ? "is required"
                    : shown(instance) + " is not an RFC 1123 label"));
        }
    }

    private static String cut(String error) {
        if (error.length() <= MAX_ERROR_LENGTH) {
            return error;
        }
        int end = MAX_ERROR_LENGTH - CUT.length();
        if (Character.isHighSurrogate(error.charAt(end - 1))) {
            end--; // never half a character
        }
        return error.substring(0, end) + CUT;
    }

    /** A value in a message: quoted, at most 40 characters, control characters replaced. */
    private static String shown(String value) {
        String v = value.length() > 40 ? value.substring(0, 40) + "..." : value;
        StringBuilder sb = new StringBuilder("'");
        v.chars().forEach(c -> sb.append(c < 0x20 || c == 0x7f ? '?' : (char) c));
        return sb.append('\'').toString();
    }
}
