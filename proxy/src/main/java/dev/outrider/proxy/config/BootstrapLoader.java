package dev.outrider.proxy.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.document.NoAliasYamlFactory;
import dev.outrider.core.document.YamlAliasException;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
    static final UpstreamConfig DEFAULT_UPSTREAM = new UpstreamConfig(Duration.ofSeconds(1),
            Duration.ofSeconds(15), Duration.ofSeconds(60), 2, 20, 3, 128);
    static final RuntimeConfig DEFAULT_RUNTIME = new RuntimeConfig(TransportKind.AUTO, 0, Duration.ofSeconds(20));
    static final AccessLogConfig DEFAULT_ACCESS_LOG = new AccessLogConfig(true, "-", 8192);
    /**
     * On by default: refusals are what an operator audits after an incident, they are rare in a healthy mesh,
     * an admitted request pays nothing for the stream, and the rate limit (20 lines a second, bursts of 100:
     * at most about 0.5 GB a day at 300 bytes a line) bounds what a flood can write.
     */
    static final SecurityEventsConfig DEFAULT_SECURITY_EVENTS = new SecurityEventsConfig(true, "stdout", 20, 100,
            Duration.ofSeconds(10));
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
        return build(tree, sourceName);
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

    static BootstrapConfig build(JsonNode tree, String source) {
        BootstrapFields fields = new BootstrapFields(source);
        DocumentFields root = fields.root(tree, "node", "inbound", "outbound", "services", "http", "upstream",
                "health", "admin", "runtime", "accessLog", "securityEvents", "tls", "policies", "jwt", "rateLimits",
                "controlPlane", "tracing");
        NodeConfig node = NodeSection.read(root);
        BootstrapConfig config = new BootstrapConfig(node,
                ListenerSections.inbound(root),
                ListenerSections.outbound(root, node.namespace()),
                ListenerSections.services(root, node.namespace(), node.trustDomain()),
                TrafficSections.http(root),
                TrafficSections.upstream(root),
                ListenerSections.listener(root, "health", DEFAULT_HEALTH),
                ListenerSections.listener(root, "admin", DEFAULT_ADMIN),
                RuntimeSections.runtime(root),
                RuntimeSections.accessLog(root),
                RuntimeSections.securityEvents(root),
                SecuritySections.tls(root),
                SecuritySections.policies(root),
                SecuritySections.jwt(root),
                TrafficSections.rateLimits(root),
                ControlPlaneSection.read(root, node),
                RuntimeSections.tracing(root));
        BootstrapChecks.check(config, source);
        return config;
    }
}
