package dev.outrider.proxy.config;

import dev.outrider.core.document.DocumentFields;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static dev.outrider.proxy.config.BootstrapFields.duration;
import static dev.outrider.proxy.config.BootstrapFields.enumValue;
import static dev.outrider.proxy.config.BootstrapFields.error;
import static dev.outrider.proxy.config.BootstrapFields.integer;
import static dev.outrider.proxy.config.BootstrapFields.namespaceLabel;
import static dev.outrider.proxy.config.BootstrapFields.path;
import static dev.outrider.proxy.config.BootstrapFields.requiredString;
import static dev.outrider.proxy.config.BootstrapFields.string;

/**
 * The bootstrap file's sections about who may call and how callers are checked: {@code tls} (mTLS), {@code
 * policies} (where policy comes from and the path rules) and {@code jwt} (end-user tokens). Pure functions.
 */
final class SecuritySections {
    private SecuritySections() {
    }

    static TlsConfig tls(DocumentFields root) {
        DocumentFields n = root.section("tls", List.of("mode", "certificate", "privateKey", "trustBundle",
                "minVersion", "provider", "handshakeTimeout", "reloadInterval", "ticketKeyRotation"));
        TlsConfig d = BootstrapLoader.DEFAULT_TLS;
        String version = string(n, "minVersion", d.minVersion().protocolName());
        TlsConfig.TlsVersion minVersion = null;
        for (TlsConfig.TlsVersion candidate : TlsConfig.TlsVersion.values()) {
            if (candidate.protocolName().equalsIgnoreCase(version.strip())) {
                minVersion = candidate;
            }
        }
        if (minVersion == null) {
            throw error(n, "minVersion", "'" + version + "' is not a supported TLS version (TLSv1.3, TLSv1.2)");
        }
        return new TlsConfig(
                enumValue(n, "mode", TlsConfig.TlsMode.class, d.mode()),
                path(n, "certificate", d.certificate()),
                path(n, "privateKey", d.privateKey()),
                path(n, "trustBundle", d.trustBundle()),
                minVersion,
                enumValue(n, "provider", TlsConfig.TlsProvider.class, d.provider()),
                duration(n, "handshakeTimeout", d.handshakeTimeout(), false, Duration.ofMinutes(5)),
                duration(n, "reloadInterval", d.reloadInterval(), false, Duration.ofHours(1)),
                duration(n, "ticketKeyRotation", d.ticketKeyRotation(), false, Duration.ofDays(1)));
    }

    static PolicyConfig policies(DocumentFields root) {
        DocumentFields n = root.section("policies", List.of("directory", "defaultAction", "rootNamespace",
                "escapedSlashes", "pathParameters", "reloadInterval"));
        PolicyConfig d = BootstrapLoader.DEFAULT_POLICIES;
        return new PolicyConfig(
                path(n, "directory", d.directory()),
                enumValue(n, "defaultAction", DefaultAction.class, d.defaultAction()),
                namespaceLabel(n, "rootNamespace", string(n, "rootNamespace", d.rootNamespace())),
                enumValue(n, "escapedSlashes", EscapedSlashes.class, d.escapedSlashes()),
                enumValue(n, "pathParameters", PathParameters.class, d.pathParameters()),
                duration(n, "reloadInterval", d.reloadInterval(), false, Duration.ofHours(1)));
    }

    static JwtConfig jwt(DocumentFields root) {
        DocumentFields n = root.section("jwt", List.of("algorithms", "clockSkew", "maxLength", "cacheSize",
                "jwksRefresh"));
        JwtConfig d = BootstrapLoader.DEFAULT_JWT;
        List<String> algorithms = new ArrayList<>();
        for (DocumentFields.Item a : n.list("algorithms")) {
            String alg = requiredString(a.node().isNull() ? null : a.node(), a.path(), n).strip();
            String known = BootstrapLoader.JWT_ALGORITHMS.stream().filter(k -> k.equalsIgnoreCase(alg)).findFirst()
                    .orElse(null);
            if (known == null) {
                String why = alg.toUpperCase(Locale.ROOT).startsWith("HS") || alg.equalsIgnoreCase("none")
                        ? " (HMAC and unsigned tokens are never accepted)" : "";
                throw (ConfigException) n.errors().fail(a.path(), "'" + alg + "' is not a supported signature"
                        + " algorithm" + why + " (supported: "
                        + String.join(", ", BootstrapLoader.JWT_ALGORITHMS.stream().sorted().toList()) + ")");
            }
            if (!algorithms.contains(known)) {
                algorithms.add(known);
            }
        }
        if (n.has("algorithms") && algorithms.isEmpty()) {
            throw error(n, "algorithms", "at least one algorithm is required");
        }
        return new JwtConfig(algorithms.isEmpty() ? d.algorithms() : algorithms,
                duration(n, "clockSkew", d.clockSkew(), true, Duration.ofMinutes(10)),
                integer(n, "maxLength", d.maxLength(), 256, 1_048_576),
                integer(n, "cacheSize", d.cacheSize(), 0, 10_000_000),
                duration(n, "jwksRefresh", d.jwksRefresh(), false, Duration.ofDays(1)));
    }
}
