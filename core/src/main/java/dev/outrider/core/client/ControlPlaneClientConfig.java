package dev.outrider.core.client;

import dev.outrider.core.model.SpiffeId;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * How to reach and trust the control plane, and how to prove who we are. Frozen once; {@link #toString()} leaves
 * the token out.
 *
 * @param servers        {@code https://host:port} of each control-plane replica, tried in this order: a call that
 *                       finds no answer moves the client to the next one for later calls; every host name must be
 *                       one of its server certificate's SANs
 * @param serverIdentity the SPIFFE ID the server certificate must carry (default
 *                       {@code spiffe://<td>/ns/outrider-system/sa/control-plane})
 * @param trustBundle    PEM CA certificates the server certificate must chain to (the mesh trust bundle)
 * @param certificate    PEM client certificate chain, or null; re-read whenever its bytes change
 * @param privateKey     PEM key of {@code certificate}, or null (both or neither)
 * @param bearerToken    sent as {@code Authorization: Bearer} on every call (the admin token of a development
 *                       control plane), or null
 * @param connectTimeout for TCP connect (the TLS handshake counts towards the request timeout)
 * @param requestTimeout for one answer; a long poll gets its {@code wait} on top
 */
public record ControlPlaneClientConfig(List<URI> servers, SpiffeId serverIdentity, Path trustBundle, Path certificate,
                                       Path privateKey, String bearerToken, Duration connectTimeout,
                                       Duration requestTimeout) {
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(15);

    public ControlPlaneClientConfig {
        requireNonNull(servers, "servers");
        if (servers.isEmpty()) {
            throw new IllegalArgumentException("no control plane address");
        }
        List<URI> normalized = new ArrayList<>();
        for (URI server : servers) {
            URI n = normalize(server);
            if (normalized.contains(n)) {
                throw new IllegalArgumentException("control plane address '" + server + "' is listed twice");
            }
            normalized.add(n);
        }
        servers = List.copyOf(normalized);
        requireNonNull(serverIdentity, "serverIdentity");
        requireNonNull(trustBundle, "trustBundle");
        requireNonNull(connectTimeout, "connectTimeout");
        requireNonNull(requestTimeout, "requestTimeout");
        if ((certificate == null) != (privateKey == null)) {
            throw new IllegalArgumentException("a client certificate needs its private key and the reverse");
        }
        if (bearerToken != null && (bearerToken.isBlank() || !bearerToken.chars().allMatch(c -> c > 0x20 && c < 0x7f))) {
            throw new IllegalArgumentException("bearer token must be printable ASCII without spaces");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero() || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
        trustBundle = trustBundle.toAbsolutePath();
        certificate = certificate == null ? null : certificate.toAbsolutePath();
        privateKey = privateKey == null ? null : privateKey.toAbsolutePath();
    }

    /** One control plane address (a single replica, or one name in front of several). */
    public ControlPlaneClientConfig(URI server, SpiffeId serverIdentity, Path trustBundle, Path certificate,
                                    Path privateKey, String bearerToken, Duration connectTimeout,
                                    Duration requestTimeout) {
        this(List.of(requireNonNull(server, "server")), serverIdentity, trustBundle, certificate, privateKey,
                bearerToken, connectTimeout, requestTimeout);
    }

    /** The first address: where the client starts. */
    public URI server() {
        return servers.getFirst();
    }

    private static URI normalize(URI server) {
        requireNonNull(server, "server");
        if (!"https".equalsIgnoreCase(server.getScheme()) || server.getHost() == null) {
            throw new IllegalArgumentException("control plane address '" + server + "' must be https://host[:port]");
        }
        if ((server.getRawPath() != null && !server.getRawPath().isEmpty() && !server.getRawPath().equals("/"))
                || server.getRawQuery() != null || server.getRawFragment() != null || server.getRawUserInfo() != null) {
            throw new IllegalArgumentException("control plane address '" + server
                    + "' must be https://host[:port] without path, query or user");
        }
        return URI.create(server.getScheme().toLowerCase(java.util.Locale.ROOT) + "://" + server.getRawAuthority());
    }

    /** The default identity of the control plane in {@code trustDomain}. */
    public static SpiffeId defaultServerIdentity(String trustDomain) {
        return SpiffeId.ofServiceAccount(trustDomain, "outrider-system", "control-plane");
    }

    public ControlPlaneClientConfig withBearerToken(String token) {
        return new ControlPlaneClientConfig(servers, serverIdentity, trustBundle, certificate, privateKey, token,
                connectTimeout, requestTimeout);
    }

    public ControlPlaneClientConfig withTimeouts(Duration connect, Duration request) {
        return new ControlPlaneClientConfig(servers, serverIdentity, trustBundle, certificate, privateKey, bearerToken,
                connect, request);
    }

    @Override
    public String toString() {
        return "ControlPlaneClientConfig[servers=" + servers + ", serverIdentity=" + serverIdentity + ", trustBundle="
                + trustBundle + ", certificate=" + certificate + ", privateKey=" + privateKey + ", bearerToken="
                + (bearerToken == null ? "none" : "<redacted>") + ", connectTimeout=" + connectTimeout
                + ", requestTimeout=" + requestTimeout + "]";
    }
}
