package dev.outrider.proxy.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.outrider.core.document.NoAliasYamlFactory;
import dev.outrider.core.document.YamlAliasException;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.LastKnownGood;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Reads the sidecar's bootstrap YAML once at start-up: parse into a tree, apply defaults, validate every
 * field, then freeze into {@link BootstrapConfig}. Any problem is a {@link ConfigException} naming the
 * field path. Unknown fields, wrong types, duplicate keys, YAML anchors and aliases, and an empty file are
 * errors, never ignored. Every field except {@code node.service} is optional; the defaults are the constants
 * below (and the configuration reference in README.md, which must match them). Scalar values may refer to the
 * environment ({@code ${NAME}}, {@code ${NAME:-default}}; {@link EnvSubstitution}), replaced before validation.
 */
public final class BootstrapLoader {
    static final String DEFAULT_NAMESPACE = "default";
    /** The shortest {@code controlPlane.maxSnapshotAge}: twice the control plane's re-signing age of one day. */
    static final Duration MIN_SNAPSHOT_AGE = Duration.ofDays(2);
    static final String DEFAULT_TRUST_DOMAIN = "cluster.local";
    static final HostPort DEFAULT_INBOUND = new HostPort("0.0.0.0", 15006);
    static final HostPort DEFAULT_APPLICATION = new HostPort("127.0.0.1", 8080);
    static final Protocol DEFAULT_APPLICATION_PROTOCOL = Protocol.HTTP1;
    static final HostPort DEFAULT_OUTBOUND = new HostPort("127.0.0.1", 15001);
    static final Protocol DEFAULT_SERVICE_PROTOCOL = Protocol.AUTO;
    static final HostPort DEFAULT_HEALTH = new HostPort("0.0.0.0", 15021);
    static final HostPort DEFAULT_ADMIN = new HostPort("127.0.0.1", 15000);
    static final HttpConfig DEFAULT_HTTP = new HttpConfig(8192, 16384, 100, 256, Duration.ofMinutes(5),
            Duration.ofSeconds(10));
    /** Open connections per downstream listener (inbound; outbound with its upstream ports). */
    static final int DEFAULT_MAX_CONNECTIONS = 4096;
    /** Open inbound connections per caller identity: the replicas of one workload share it. */
    static final int DEFAULT_MAX_CONNECTIONS_PER_PEER = 1024;
    /** Upper bound for the connection limits: far beyond what one sidecar's file descriptors allow. */
    private static final int MAX_CONNECTION_LIMIT = 1_000_000;
    static final UpstreamConfig DEFAULT_UPSTREAM = new UpstreamConfig(Duration.ofSeconds(1),
            Duration.ofSeconds(15), Duration.ofSeconds(60), 2, 20, 3);
    static final RuntimeConfig DEFAULT_RUNTIME = new RuntimeConfig(TransportKind.AUTO, 0, Duration.ofSeconds(20));
    static final AccessLogConfig DEFAULT_ACCESS_LOG = new AccessLogConfig(true, "-", 8192);
    static final TlsConfig DEFAULT_TLS = new TlsConfig(TlsConfig.TlsMode.MTLS,
            Path.of("/etc/outrider/tls/cert.pem"), Path.of("/etc/outrider/tls/key.pem"),
            Path.of("/etc/outrider/tls/ca-bundle.pem"), TlsConfig.TlsVersion.TLS_1_3, TlsConfig.TlsProvider.AUTO,
            Duration.ofSeconds(10), Duration.ofSeconds(2), Duration.ofHours(1));
    static final String DEFAULT_ROOT_NAMESPACE = "outrider-system";
    static final PolicyConfig DEFAULT_POLICIES = new PolicyConfig(null, DefaultAction.DENY, DEFAULT_ROOT_NAMESPACE,
            EscapedSlashes.REJECT, PathParameters.REJECT, Duration.ofSeconds(2));
    static final JwtConfig DEFAULT_JWT = new JwtConfig(List.of("RS256", "ES256", "EdDSA"), Duration.ofSeconds(60),
            16 * 1024, 10_000, Duration.ofMinutes(5));
    static final RateLimitConfig DEFAULT_RATE_LIMITS = new RateLimitConfig(10_000, Duration.ofSeconds(1));
    /** Signature algorithms {@code jwt.algorithms} may name (RFC 7518 §3.1, RFC 8037); never HMAC or none. */
    static final Set<String> JWT_ALGORITHMS = Set.of("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
            "ES256", "ES384", "ES512", "EdDSA");

    /** Upper bound for every timeout: anything longer is a typo, not a plan. */
    private static final Duration MAX_TIMEOUT = Duration.ofDays(1);
    /** SPIFFE trust domain characters (lower-case letters, digits, '.', '-', '_'). */
    private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9]([a-z0-9._-]{0,253}[a-z0-9])?");
    /** Kubernetes label key: optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
    private static final Pattern LABEL_KEY = Pattern.compile(
            "([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?");
    /** Kubernetes label value: empty, or at most 63 characters, alphanumeric at both ends. */
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?");

    /** Stateless after construction; Jackson mappers are thread-safe for reading. Anchors and aliases refused. */
    private static final ObjectMapper YAML = new ObjectMapper(NoAliasYamlFactory.of(YAMLFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL) // "key:" with no value means "not set"
            .build()));

    private BootstrapLoader() {
    }

    /** Reads and validates {@code file} (UTF-8), with references to this process's environment. */
    public static BootstrapConfig load(Path file) {
        return load(file, System.getenv());
    }

    /** Reads and validates {@code file} (UTF-8); {@code ${NAME}} references are looked up in {@code env}. */
    public static BootstrapConfig load(Path file, Map<String, String> env) {
        requireNonNull(file, "file");
        requireNonNull(env, "env");
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException(file.toString(), "", "no such file", e);
        } catch (CharacterCodingException e) {
            throw new ConfigException(file.toString(), "", "not UTF-8 text", e);
        } catch (IOException e) {
            throw new ConfigException(file.toString(), "", "cannot read: " + e, e);
        }
        return parse(text, file.toString(), env);
    }

    /**
     * Parses and validates {@code yaml}, with references to this process's environment; {@code sourceName} is
     * kept in exceptions for the caller to print.
     */
    public static BootstrapConfig parse(String yaml, String sourceName) {
        return parse(yaml, sourceName, System.getenv());
    }

    /** Parses and validates {@code yaml}; {@code ${NAME}} references are looked up in {@code env}. */
    public static BootstrapConfig parse(String yaml, String sourceName, Map<String, String> env) {
        requireNonNull(yaml, "yaml");
        requireNonNull(sourceName, "sourceName");
        requireNonNull(env, "env");
        JsonNode tree = EnvSubstitution.apply(readTree(yaml, sourceName), env, sourceName);
        return build(new ConfigNode(sourceName, "", tree));
    }

    private static JsonNode readTree(String yaml, String source) {
        try (JsonParser parser = YAML.createParser(yaml)) {
            JsonNode tree;
            try {
                tree = YAML.readTree(parser);
            } catch (JsonProcessingException e) {
                throw syntaxError(source, parser, e);
            }
            if (tree == null || tree.isNull() || tree.isMissingNode()) {
                throw new ConfigException(source, "", "the file is empty (node.service is required)");
            }
            if (!tree.isObject()) {
                throw new ConfigException(source, "", "expected a mapping at the top level");
            }
            if (parser.nextToken() != null) {
                throw new ConfigException(source, "", "more than one YAML document ('---'); expected one");
            }
            return tree;
        } catch (IOException e) {
            throw new ConfigException(source, "", "not valid YAML: " + e.getMessage(), e);
        }
    }

    private static ConfigException syntaxError(String source, JsonParser parser, JsonProcessingException e) {
        if (e instanceof YamlAliasException alias) {
            return new ConfigException(source, alias.path(), alias.problem(), e);
        }
        String where = e.getLocation() == null ? ""
                : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
        String message = e.getOriginalMessage();
        if (message != null && message.startsWith("Duplicate field")) {
            return new ConfigException(source, pathOf(parser.getParsingContext()), "duplicate key" + where, e);
        }
        return new ConfigException(source, "", "not valid YAML" + where + ": " + message, e);
    }

    /** The dotted path of the parser's position: {@code http.maxHeaderSize}, {@code services[1].name}. */
    private static String pathOf(JsonStreamContext ctx) {
        List<String> parts = new ArrayList<>();
        for (JsonStreamContext c = ctx; c != null && !c.inRoot(); c = c.getParent()) {
            if (c.inObject() && c.getCurrentName() != null) {
                parts.addFirst("." + c.getCurrentName());
            } else if (c.inArray()) {
                parts.addFirst("[" + Math.max(0, c.getCurrentIndex()) + "]");
            }
        }
        String path = String.join("", parts);
        return path.startsWith(".") ? path.substring(1) : path;
    }

    static BootstrapConfig build(ConfigNode root) {
        root.object("node", "inbound", "outbound", "services", "http", "upstream", "health", "admin", "runtime",
                "accessLog", "tls", "policies", "jwt", "rateLimits", "controlPlane");
        NodeConfig node = node(root.field("node"));
        BootstrapConfig config = new BootstrapConfig(node,
                inbound(root.field("inbound")),
                outbound(root.field("outbound"), node.namespace()),
                services(root.field("services"), node.namespace(), node.trustDomain()),
                http(root.field("http")),
                upstream(root.field("upstream")),
                root.field("health").object("listen").field("listen").hostPort(DEFAULT_HEALTH, 0),
                root.field("admin").object("listen").field("listen").hostPort(DEFAULT_ADMIN, 0),
                runtime(root.field("runtime")),
                accessLog(root.field("accessLog")),
                tls(root.field("tls")),
                policies(root.field("policies")),
                jwt(root.field("jwt")),
                rateLimits(root.field("rateLimits")),
                controlPlane(root.field("controlPlane"), node));
        BootstrapChecks.check(config, root.source());
        return config;
    }

    private static NodeConfig node(ConfigNode n) {
        if (!n.isSet()) {
            throw n.error("required (at least node.service, the service this sidecar serves)");
        }
        n.object("service", "namespace", "serviceAccount", "trustDomain", "labels");
        String service = serviceLabel(n.field("service"), n.field("service").requiredString());
        String namespace = namespaceLabel(n.field("namespace"), n.field("namespace").string(DEFAULT_NAMESPACE));
        String serviceAccount = namespaceLabel(n.field("serviceAccount"), n.field("serviceAccount").string(service));
        ConfigNode td = n.field("trustDomain");
        String trustDomain = td.string(DEFAULT_TRUST_DOMAIN);
        if (!TRUST_DOMAIN.matcher(trustDomain).matches()) {
            throw td.error("'" + trustDomain + "' is not a trust domain (lower-case letters, digits, '.', '-', '_')");
        }
        return new NodeConfig(service, namespace, serviceAccount, trustDomain, labels(n.field("labels"), service));
    }

    /**
     * Kubernetes-style labels for policy selectors; {@code app: <service>} unless {@code app} is given, so a
     * workload always carries its service's label (as {@code outrider explain} assumes).
     */
    private static Map<String, String> labels(ConfigNode n, String service) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app", service);
        if (!n.isSet()) {
            return labels;
        }
        if (!n.node().isObject()) {
            throw n.error("expected a mapping of label names to values");
        }
        for (Iterator<String> it = n.node().fieldNames(); it.hasNext(); ) {
            String key = it.next();
            ConfigNode v = n.field(key);
            if (!LABEL_KEY.matcher(key).matches()) {
                throw v.error("'" + key + "' is not a label name ([prefix/]name, name at most 63 letters, digits, "
                        + "'-', '_', '.')");
            }
            String value = v.isSet() && (v.node().isNumber() || v.node().isBoolean()) ? v.node().asText()
                    : v.string("");
            if (!LABEL_VALUE.matcher(value).matches()) {
                throw v.error("'" + value + "' is not a label value (at most 63 letters, digits, '-', '_', '.')");
            }
            labels.put(key, value);
        }
        return labels;
    }

    private static InboundConfig inbound(ConfigNode n) {
        n.object("listen", "application", "applicationProtocol", "maxConnections", "maxConnectionsPerPeer");
        return new InboundConfig(n.field("listen").hostPort(DEFAULT_INBOUND, 0),
                n.field("application").hostPort(DEFAULT_APPLICATION, 1),
                n.field("applicationProtocol").enumValue(Protocol.class, DEFAULT_APPLICATION_PROTOCOL),
                n.field("maxConnections").integer(DEFAULT_MAX_CONNECTIONS, 1, MAX_CONNECTION_LIMIT),
                n.field("maxConnectionsPerPeer").integer(DEFAULT_MAX_CONNECTIONS_PER_PEER, 1, MAX_CONNECTION_LIMIT));
    }

    private static OutboundConfig outbound(ConfigNode n, String namespace) {
        n.object("listen", "upstreams", "maxConnections");
        List<UpstreamPortConfig> upstreams = new ArrayList<>();
        for (ConfigNode u : n.field("upstreams").list()) {
            u.object("service", "port");
            if (!u.isSet()) {
                throw u.error("expected a mapping with service and port");
            }
            ConfigNode s = u.field("service");
            String text = s.requiredString();
            ServiceName service;
            try {
                service = ServiceName.parse(text.strip(), namespace);
            } catch (IllegalArgumentException e) {
                throw s.error(e.getMessage());
            }
            int port = u.field("port").port(-1, 1);
            if (port < 0) {
                throw u.field("port").error("required");
            }
            upstreams.add(new UpstreamPortConfig(service, port));
        }
        return new OutboundConfig(n.field("listen").hostPort(DEFAULT_OUTBOUND, 0), upstreams,
                n.field("maxConnections").integer(DEFAULT_MAX_CONNECTIONS, 1, MAX_CONNECTION_LIMIT));
    }

    private static List<ServiceConfig> services(ConfigNode n, String defaultNamespace, String trustDomain) {
        List<ServiceConfig> services = new ArrayList<>();
        for (ConfigNode s : n.list()) {
            s.object("name", "namespace", "protocol", "endpoints", "identities");
            if (!s.isSet()) {
                throw s.error("expected a mapping with name and endpoints");
            }
            String name = serviceLabel(s.field("name"), s.field("name").requiredString());
            String namespace = namespaceLabel(s.field("namespace"), s.field("namespace").string(defaultNamespace));
            Protocol protocol = s.field("protocol").enumValue(Protocol.class, DEFAULT_SERVICE_PROTOCOL);
            List<HostPort> endpoints = new ArrayList<>();
            for (ConfigNode e : s.field("endpoints").list()) {
                if (!e.isSet()) {
                    throw e.error("expected host:port, got nothing");
                }
                endpoints.add(e.hostPort(null, 1));
            }
            if (endpoints.isEmpty()) {
                throw s.field("endpoints").error("at least one endpoint (host:port) is required");
            }
            List<SpiffeId> identities = new ArrayList<>();
            for (ConfigNode i : s.field("identities").list()) {
                if (!i.isSet()) {
                    throw i.error("expected a SPIFFE ID (spiffe://<trust-domain>/ns/<namespace>/sa/<account>)");
                }
                try {
                    identities.add(SpiffeId.parse(i.requiredString().strip()));
                } catch (IllegalArgumentException e) {
                    throw i.error(e.getMessage());
                }
            }
            if (identities.isEmpty()) {
                // Kubernetes convention: a service's pods run as the service account of the same name.
                identities.add(SpiffeId.ofServiceAccount(trustDomain, namespace, name));
            }
            services.add(new ServiceConfig(new ServiceName(name, namespace), protocol, endpoints, identities));
        }
        return services;
    }

    private static HttpConfig http(ConfigNode n) {
        n.object("maxInitialLineLength", "maxHeaderSize", "maxHeaderCount", "maxConcurrentStreams", "idleTimeout",
                "requestHeaderTimeout");
        HttpConfig d = DEFAULT_HTTP;
        return new HttpConfig(
                n.field("maxInitialLineLength").integer(d.maxInitialLineLength(), 256, 65_536),
                n.field("maxHeaderSize").integer(d.maxHeaderSize(), 1_024, 1_048_576),
                n.field("maxHeaderCount").integer(d.maxHeaderCount(), 1, 10_000),
                n.field("maxConcurrentStreams").integer(d.maxConcurrentStreams(), 1, 65_535),
                n.field("idleTimeout").duration(d.idleTimeout(), true, MAX_TIMEOUT),
                n.field("requestHeaderTimeout").duration(d.requestHeaderTimeout(), false, Duration.ofMinutes(5)));
    }

    private static UpstreamConfig upstream(ConfigNode n) {
        n.object("connectTimeout", "requestTimeout", "idleTimeout", "maxRetries", "retryBudgetPercent",
                "minRetryConcurrency");
        UpstreamConfig d = DEFAULT_UPSTREAM;
        return new UpstreamConfig(
                n.field("connectTimeout").duration(d.connectTimeout(), false, Duration.ofMinutes(5)),
                n.field("requestTimeout").duration(d.requestTimeout(), true, MAX_TIMEOUT),
                n.field("idleTimeout").duration(d.idleTimeout(), false, MAX_TIMEOUT),
                n.field("maxRetries").integer(d.maxRetries(), 0, 10),
                n.field("retryBudgetPercent").integer(d.retryBudgetPercent(), 0, 100),
                n.field("minRetryConcurrency").integer(d.minRetryConcurrency(), 0, 10_000));
    }

    private static RuntimeConfig runtime(ConfigNode n) {
        n.object("transport", "eventLoops", "drainTimeout");
        RuntimeConfig d = DEFAULT_RUNTIME;
        return new RuntimeConfig(
                n.field("transport").enumValue(TransportKind.class, d.transport()),
                n.field("eventLoops").integer(d.eventLoops(), 0, 1_024),
                n.field("drainTimeout").duration(d.drainTimeout(), true, Duration.ofHours(1)));
    }

    private static AccessLogConfig accessLog(ConfigNode n) {
        n.object("enabled", "path", "queueSize");
        AccessLogConfig d = DEFAULT_ACCESS_LOG;
        String path = n.field("path").string(d.path());
        if (path.isBlank()) {
            throw n.field("path").error("must not be empty ('-' is standard output)");
        }
        return new AccessLogConfig(n.field("enabled").bool(d.enabled()), path,
                n.field("queueSize").integer(d.queueSize(), 1, 1_048_576));
    }

    private static TlsConfig tls(ConfigNode n) {
        n.object("mode", "certificate", "privateKey", "trustBundle", "minVersion", "provider", "handshakeTimeout",
                "reloadInterval", "ticketKeyRotation");
        TlsConfig d = DEFAULT_TLS;
        ConfigNode v = n.field("minVersion");
        String version = v.string(d.minVersion().protocolName());
        TlsConfig.TlsVersion minVersion = null;
        for (TlsConfig.TlsVersion candidate : TlsConfig.TlsVersion.values()) {
            if (candidate.protocolName().equalsIgnoreCase(version.strip())) {
                minVersion = candidate;
            }
        }
        if (minVersion == null) {
            throw v.error("'" + version + "' is not a supported TLS version (TLSv1.3, TLSv1.2)");
        }
        return new TlsConfig(
                n.field("mode").enumValue(TlsConfig.TlsMode.class, d.mode()),
                path(n.field("certificate"), d.certificate()),
                path(n.field("privateKey"), d.privateKey()),
                path(n.field("trustBundle"), d.trustBundle()),
                minVersion,
                n.field("provider").enumValue(TlsConfig.TlsProvider.class, d.provider()),
                n.field("handshakeTimeout").duration(d.handshakeTimeout(), false, Duration.ofMinutes(5)),
                n.field("reloadInterval").duration(d.reloadInterval(), false, Duration.ofHours(1)),
                n.field("ticketKeyRotation").duration(d.ticketKeyRotation(), false, Duration.ofDays(1)));
    }

    private static PolicyConfig policies(ConfigNode n) {
        n.object("directory", "defaultAction", "rootNamespace", "escapedSlashes", "pathParameters", "reloadInterval");
        PolicyConfig d = DEFAULT_POLICIES;
        return new PolicyConfig(
                path(n.field("directory"), d.directory()),
                n.field("defaultAction").enumValue(DefaultAction.class, d.defaultAction()),
                namespaceLabel(n.field("rootNamespace"), n.field("rootNamespace").string(d.rootNamespace())),
                n.field("escapedSlashes").enumValue(EscapedSlashes.class, d.escapedSlashes()),
                n.field("pathParameters").enumValue(PathParameters.class, d.pathParameters()),
                n.field("reloadInterval").duration(d.reloadInterval(), false, Duration.ofHours(1)));
    }

    private static JwtConfig jwt(ConfigNode n) {
        n.object("algorithms", "clockSkew", "maxLength", "cacheSize", "jwksRefresh");
        JwtConfig d = DEFAULT_JWT;
        List<String> algorithms = new ArrayList<>();
        for (ConfigNode a : n.field("algorithms").list()) {
            String alg = a.requiredString().strip();
            String known = JWT_ALGORITHMS.stream().filter(k -> k.equalsIgnoreCase(alg)).findFirst().orElse(null);
            if (known == null) {
                String why = alg.toUpperCase(java.util.Locale.ROOT).startsWith("HS") || alg.equalsIgnoreCase("none")
                        ? " (HMAC and unsigned tokens are never accepted)" : "";
                throw a.error("'" + alg + "' is not a supported signature algorithm" + why + " (supported: "
                        + String.join(", ", JWT_ALGORITHMS.stream().sorted().toList()) + ")");
            }
            if (!algorithms.contains(known)) {
                algorithms.add(known);
            }
        }
        if (n.field("algorithms").isSet() && algorithms.isEmpty()) {
            throw n.field("algorithms").error("at least one algorithm is required");
        }
        return new JwtConfig(algorithms.isEmpty() ? d.algorithms() : algorithms,
                n.field("clockSkew").duration(d.clockSkew(), true, Duration.ofMinutes(10)),
                n.field("maxLength").integer(d.maxLength(), 256, 1_048_576),
                n.field("cacheSize").integer(d.cacheSize(), 0, 10_000_000),
                n.field("jwksRefresh").duration(d.jwksRefresh(), false, Duration.ofDays(1)));
    }

    private static RateLimitConfig rateLimits(ConfigNode n) {
        n.object("maxTracked", "sweepInterval");
        RateLimitConfig d = DEFAULT_RATE_LIMITS;
        return new RateLimitConfig(n.field("maxTracked").integer(d.maxTracked(), 100, 10_000_000),
                n.field("sweepInterval").duration(d.sweepInterval(), false, Duration.ofMinutes(1)));
    }

    /** The {@code controlPlane} block, or null when the sidecar is configured from files only. */
    private static ControlPlaneConfig controlPlane(ConfigNode n, NodeConfig node) {
        if (!n.isSet()) {
            return null;
        }
        n.object("address", "identity", "snapshotKeys", "joinToken", "serviceAccountToken", "cacheDirectory",
                "advertise", "instance", "bootstrapTimeout", "watchTimeout", "maxSnapshotAge");
        ConfigNode address = n.field("address");
        if (!address.isSet()) {
            throw address.error("required (host:port of the control plane's API, e.g. 127.0.0.1:15010)");
        }
        ConfigNode id = n.field("identity");
        SpiffeId identity;
        String idText = id.string(null);
        if (idText == null) {
            identity = SpiffeId.ofServiceAccount(node.trustDomain(), "outrider-system", "control-plane");
        } else {
            try {
                identity = SpiffeId.parse(idText.strip());
            } catch (IllegalArgumentException e) {
                throw id.error(e.getMessage());
            }
        }
        ConfigNode keys = n.field("snapshotKeys");
        if (!keys.isSet()) {
            throw keys.error("required (the control plane's public snapshot keys, a JWK Set file)");
        }
        ConfigNode cache = n.field("cacheDirectory");
        if (!cache.isSet()) {
            throw cache.error("required (a directory where the last-known-good snapshot is kept)");
        }
        ConfigNode saToken = n.field("serviceAccountToken");
        if (saToken.isSet() && n.field("joinToken").isSet()) {
            throw saToken.error("set either joinToken or serviceAccountToken, not both (a sidecar bootstraps with"
                    + " one credential)");
        }
        ConfigNode adv = n.field("advertise");
        HostPort advertise = adv.isSet() ? adv.hostPort(null, 1) : null;
        ConfigNode inst = n.field("instance");
        String instance = inst.string(null);
        if (instance != null && !DnsLabel.isValid(instance)) {
            throw inst.error("'" + instance + "' is not a DNS label (RFC 1123: lower-case letters, digits, '-')");
        }
        return new ControlPlaneConfig(address.hostPort(null, 1), identity, path(keys, null),
                path(n.field("joinToken"), null), path(saToken, null), path(cache, null), advertise, instance,
                n.field("bootstrapTimeout").duration(Duration.ofSeconds(60), false, Duration.ofHours(1)),
                n.field("watchTimeout").duration(Duration.ofSeconds(30), false, Duration.ofSeconds(60)),
                maxSnapshotAge(n.field("maxSnapshotAge")));
    }

    /**
     * At least {@link #MIN_SNAPSHOT_AGE}: the control plane re-signs a snapshot once it is a day old, so a shorter
     * maximum would refuse the cache of a healthy sidecar that restarts.
     */
    private static Duration maxSnapshotAge(ConfigNode at) {
        Duration age = at.duration(LastKnownGood.DEFAULT_MAX_AGE, false, Duration.ofDays(365));
        if (age.compareTo(MIN_SNAPSHOT_AGE) < 0) {
            throw at.error(Durations.format(age) + " is shorter than the minimum " + Durations.format(MIN_SNAPSHOT_AGE)
                    + " (the control plane re-signs snapshots once a day)");
        }
        return age;
    }

    private static Path path(ConfigNode at, Path def) {
        String text = at.string(null);
        if (text == null) {
            return def;
        }
        if (text.isBlank()) {
            throw at.error("must not be empty");
        }
        try {
            return Path.of(text.strip());
        } catch (java.nio.file.InvalidPathException e) {
            throw at.error("'" + text + "' is not a file path: " + e.getReason());
        }
    }

    /** RFC 1123 label, checked by {@link ServiceName} so the sidecar and the wire model agree. */
    private static String serviceLabel(ConfigNode at, String name) {
        try {
            return new ServiceName(name, DEFAULT_NAMESPACE).name();
        } catch (IllegalArgumentException e) {
            throw at.error(e.getMessage());
        }
    }

    private static String namespaceLabel(ConfigNode at, String namespace) {
        try {
            return new ServiceName("x", namespace).namespace();
        } catch (IllegalArgumentException e) {
            throw at.error(e.getMessage());
        }
    }
}
