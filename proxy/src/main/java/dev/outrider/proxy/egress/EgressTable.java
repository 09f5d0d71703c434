package dev.outrider.proxy.egress;

import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.IntObjectMap;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The egress allow-list compiled for this workload: declared external host (lower case) and the port the application
 * addresses → {@link EgressRoute}. Immutable once built; published inside the policy snapshot and read by every event
 * loop.
 */
public final class EgressTable {
    /** No external service declared: every external host is refused. */
    public static final EgressTable EMPTY = new EgressTable(Map.of(), List.of());

    private final Map<String, IntObjectMap<EgressRoute>> byHost;
    private final List<String> entries;

    private EgressTable(Map<String, IntObjectMap<EgressRoute>> byHost, List<String> entries) {
        this.byHost = byHost;
        this.entries = List.copyOf(entries);
    }

    /** The ports of {@code host}, or null when no entry declares it. */
    IntObjectMap<EgressRoute> ports(String host) {
        return byHost.get(host);
    }

    /** {@code namespace/name} of the ServiceEntries in it, for logs and {@code /config}. */
    public List<String> entries() {
        return entries;
    }

    /** Collects routes; the first entry to declare a host and port keeps it. */
    static final class Builder {
        private final Map<String, IntObjectMap<EgressRoute>> byHost = new HashMap<>();
        private final List<String> entries = new java.util.ArrayList<>();

        /** @return the entry that already declares {@code host:port}, or null when this one was added */
        String add(String host, int port, EgressRoute route) {
            IntObjectMap<EgressRoute> ports = byHost.computeIfAbsent(host, h -> new IntObjectHashMap<>(4));
            EgressRoute previous = ports.get(port);
            if (previous != null) {
                return previous.entry();
            }
            ports.put(port, route);
            return null;
        }

        void entry(String id) {
            entries.add(id);
        }

        EgressTable build() {
            return byHost.isEmpty() && entries.isEmpty() ? EMPTY : new EgressTable(Map.copyOf(byHost), entries);
        }
    }
}
