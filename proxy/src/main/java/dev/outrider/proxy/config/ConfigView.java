package dev.outrider.proxy.config;

import dev.outrider.core.document.Durations;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The effective configuration as plain maps, lists, strings, numbers and booleans, shaped like the
 * bootstrap file, for the admin server's {@code /config} (serialised as JSON). Durations are written as
 * in the file ({@code 15s}), addresses as {@code host:port}, enums in lower case.
 *
 * <p>Redaction: the value of any key whose name contains {@code key}, {@code token}, {@code secret},
 * {@code password} or {@code credential} (any case), at any depth, is replaced by {@value #REDACTED},
 * whatever its type. The rule looks at names, not values, so a field added later is covered as soon as
 * its name says what it holds ({@code privateKeyPath}, {@code jwksToken}). {@code tls.privateKey},
 * {@code controlPlane.snapshotKeys}, {@code controlPlane.joinToken} and {@code controlPlane.serviceAccountToken}
 * are shown: they are the paths of files, not what the files hold.
 */
public final class ConfigView {
    public static final String REDACTED = "[redacted]";
    private static final List<String> SENSITIVE = List.of("key", "token", "secret", "password", "credential");
    /** Names that match a sensitive word but hold no secret: file paths and a duration. */
    private static final Set<String> NOT_SECRET = Set.of("privateKey", "ticketKeyRotation", "snapshotKeys",
            "joinToken", "serviceAccountToken");

    private ConfigView() {
    }

    /** An unmodifiable view of {@code config} with sensitive values redacted. */
    public static Map<String, Object> redacted(BootstrapConfig config) {
        requireNonNull(config, "config");
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("node", map("service", config.node().service(), "namespace", config.node().namespace(),
                "serviceAccount", config.node().serviceAccount(), "trustDomain", config.node().trustDomain(),
                "labels", new java.util.TreeMap<>(config.node().labels())));
        root.put("inbound", map("listen", config.inbound().listen().toString(),
                "application", config.inbound().application().toString(),
                "applicationProtocol", lower(config.inbound().applicationProtocol()),
                "maxConnections", config.inbound().maxConnections(),
                "maxConnectionsPerPeer", config.inbound().maxConnectionsPerPeer(),
                "tcp", map("ports", config.inbound().tcp().sortedPorts(),
                        "maxConnectionsPerSource", config.inbound().tcp().maxConnectionsPerSource(),
                        "connectionsPerSecond", config.inbound().tcp().connectionsPerSecond(),
                        "connectionBurst", config.inbound().tcp().connectionBurst())));
        List<Object> upstreams = new ArrayList<>();
        for (UpstreamPortConfig u : config.outbound().upstreams()) {
            upstreams.add(u.tcp()
                    ? map("service", u.service().toString(), "port", u.port(), "protocol", lower(u.protocol()),
                            "targetPort", u.targetPort())
                    : map("service", u.service().toString(), "port", u.port()));
        }
        root.put("outbound", map("listen", config.outbound().listen().toString(), "upstreams", upstreams,
                "maxConnections", config.outbound().maxConnections()));
        List<Object> services = new ArrayList<>();
        for (ServiceConfig s : config.services()) {
            services.add(map("name", s.name().name(), "namespace", s.name().namespace(),
                    "protocol", lower(s.protocol()),
                    "endpoints", s.endpoints().stream().map(HostPort::toString).toList(),
                    "identities", s.identities().stream().map(Object::toString).toList()));
        }
        root.put("services", services);
        HttpConfig h = config.http();
        root.put("http", map("maxInitialLineLength", h.maxInitialLineLength(), "maxHeaderSize", h.maxHeaderSize(),
                "maxHeaderCount", h.maxHeaderCount(), "maxConcurrentStreams", h.maxConcurrentStreams(),
                "idleTimeout", Durations.format(h.idleTimeout()),
                "requestHeaderTimeout", Durations.format(h.requestHeaderTimeout())));
        UpstreamConfig u = config.upstream();
        root.put("upstream", map("connectTimeout", Durations.format(u.connectTimeout()),
                "requestTimeout", Durations.format(u.requestTimeout()),
                "idleTimeout", Durations.format(u.idleTimeout()),
                "maxRetries", u.maxRetries(), "retryBudgetPercent", u.retryBudgetPercent(),
                "minRetryConcurrency", u.minRetryConcurrency(), "maxIdlePerEndpoint", u.maxIdlePerEndpoint()));
        root.put("health", map("listen", config.health().toString()));
        root.put("admin", map("listen", config.admin().toString()));
        RuntimeConfig r = config.runtime();
        root.put("runtime", map("transport", lower(r.transport()), "eventLoops", r.eventLoops(),
                "drainTimeout", Durations.format(r.drainTimeout())));
        AccessLogConfig a = config.accessLog();
        root.put("accessLog", map("enabled", a.enabled(), "path", a.path(), "queueSize", a.queueSize()));
        SecurityEventsConfig se = config.securityEvents();
        root.put("securityEvents", map("enabled", se.enabled(), "path", se.path(), "ratePerSecond",
                se.ratePerSecond(), "burst", se.burst(), "summaryInterval", Durations.format(se.summaryInterval())));
        TracingConfig tr = config.tracing();
        root.put("tracing", map("enabled", tr.enabled(), "endpoint", tr.endpoint().toString(),
                "samplingRatio", tr.samplingRatio(), "queueSize", tr.queueSize()));
        TlsConfig t = config.tls();
        root.put("tls", map("mode", lower(t.mode()), "certificate", t.certificate().toString(),
                "privateKey", t.privateKey().toString(), "trustBundle", t.trustBundle().toString(),
                "minVersion", t.minVersion().protocolName(), "provider", lower(t.provider()),
                "handshakeTimeout", Durations.format(t.handshakeTimeout()),
                "reloadInterval", Durations.format(t.reloadInterval()),
                "ticketKeyRotation", Durations.format(t.ticketKeyRotation())));
        PolicyConfig p = config.policies();
        root.put("policies", map("directory", p.directory() == null ? null : p.directory().toString(),
                "defaultAction", lower(p.defaultAction()), "rootNamespace", p.rootNamespace(),
                "escapedSlashes", lower(p.escapedSlashes()), "pathParameters", lower(p.pathParameters()),
                "reloadInterval", Durations.format(p.reloadInterval())));
        JwtConfig j = config.jwt();
        root.put("jwt", map("algorithms", j.algorithms(), "clockSkew", Durations.format(j.clockSkew()),
                "maxLength", j.maxLength(), "cacheSize", j.cacheSize(),
                "jwksRefresh", Durations.format(j.jwksRefresh())));
        RateLimitConfig rl = config.rateLimits();
        Map<String, Object> rateLimits = map("maxTracked", rl.maxTracked(),
                "sweepInterval", Durations.format(rl.sweepInterval()));
        if (rl.redis() != null) {
            rateLimits.put("redis", map("uri", rl.redis().uri().toString(), "passwordFile",
                    rl.redis().passwordFile() == null ? null : rl.redis().passwordFile().toString(),
                    "timeout", Durations.format(rl.redis().timeout()), "cluster", rl.redis().cluster()));
        }
        root.put("rateLimits", rateLimits);
        ControlPlaneLinkConfig cp = config.controlPlane();
        if (cp != null) {
            root.put("controlPlane", map("address", cp.addresses().size() == 1 ? cp.addresses().getFirst().toString()
                    : cp.addresses().stream().map(HostPort::toString).toList(), "identity", cp.identity().toString(),
                    "snapshotKeys", cp.snapshotKeys().toString(),
                    "joinToken", cp.joinToken() == null ? null : cp.joinToken().toString(),
                    "serviceAccountToken",
                    cp.serviceAccountToken() == null ? null : cp.serviceAccountToken().toString(),
                    "cacheDirectory", cp.cacheDirectory().toString(),
                    "advertise", cp.advertise() == null ? null : cp.advertise().toString(),
                    "instance", cp.instance(), "bootstrapTimeout", Durations.format(cp.bootstrapTimeout()),
                    "watchTimeout", Durations.format(cp.watchTimeout()),
                    "maxSnapshotAge", Durations.format(cp.maxSnapshotAge())));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> view = (Map<String, Object>) redact(root);
        return view;
    }

    /** Whether a value under this key is withheld. */
    static boolean isSensitive(String key) {
        if (NOT_SECRET.contains(key)) {
            return false;
        }
        String k = key.toLowerCase(Locale.ROOT);
        for (String word : SENSITIVE) {
            if (k.contains(word)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Returns an unmodifiable deep copy of a tree of maps and lists with every sensitive key's value
     * replaced; leaves (strings, numbers, booleans, null) are kept as they are.
     */
    static Object redact(Object tree) {
        if (tree instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String key = String.valueOf(e.getKey());
                out.put(key, isSensitive(key) ? REDACTED : redact(e.getValue()));
            }
            return Collections.unmodifiableMap(out);
        }
        if (tree instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object o : l) {
                out.add(redact(o));
            }
            return Collections.unmodifiableList(out);
        }
        return tree;
    }

    private static Map<String, Object> map(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
