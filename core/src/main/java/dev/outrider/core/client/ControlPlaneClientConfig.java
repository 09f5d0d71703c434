package dev.outrider.core.client;

import dev.outrider.core.model.SpiffeId;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * How to reach and trust the control plane, and how to prove who we are. Frozen once; {@link #toString()} leaves
 * the token out.
 *
 * @param server         {@code https://host:port}; the host name must be one of the server certificate's SANs
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
public record ControlPlaneClientConfig(URI server, SpiffeId serverIdentity, Path trustBundle, Path certificate,
                                       Path privateKey, String bearerToken, Duration connectTimeout,
                                       Duration requestTimeout) {
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(15);

    public ControlPlaneClientConfig {
        requireNonNull(server, "server");
        requireNonNull(serverIdentity, "serverIdentity");
        requireNonNull(trustBundle, "trustBundle");
        requireNonNull(connectTimeout, "connectTimeout");
        requireNonNull(requestTimeout, "requestTimeout");
        if (!"https".equalsIgnoreCase(server.getScheme()) || server.getHost() == null) {
            throw new IllegalArgumentException("control plane address '" + server + "' must be https://host[:port]");
        }
        if ((server.getRawPath() != null && !server.getRawPath().isEmpty() && !server.getRawPath().equals("/"))
                || server.getRawQuery() != null || server.getRawFragment() != null || server.getRawUserInfo() != null) {
            throw new IllegalArgumentException("control plane address '" + server
                    + "' must be https://host[:port] without path, query or user");
        }
        if ((certificate == null) != (privateKey == null)) {
            throw new IllegalArgumentException("a client certificate needs its private key and the reverse");
        }
        if (bearerToken != null && (bearerToken.isBlank() || !bearerToken.chars().allMatch(c -> c > 0x20 && c < 0x7f))) {
            throw new IllegalArgumentException("bearer token must be printable ASCII without spaces");
        }
        if (connectTimeout.isNegative() || connectTimeout.isZero() || requestTimeout.isNegative() || requestTimeout.isZero()) {
            throw new IllegalArgumentException("timeouts must be positive");
        }
        server = URI.create(server.getScheme().toLowerCase(java.util.Locale.ROOT) + "://" + server.getRawAuthority());
        trustBundle = trustBundle.toAbsolutePath();
        certificate = certificate == null ? null : certificate.toAbsolutePath();
        privateKey = privateKey == null ? null : privateKey.toAbsolutePath();
    }

    /** The default identity of the control plane in {@code trustDomain}. */
    public static SpiffeId defaultServerIdentity(String trustDomain) {
        return SpiffeId.ofServiceAccount(trustDomain, "outrider-system", "control-plane");
    }

    public ControlPlaneClientConfig withBearerToken(String token) {
        return new ControlPlaneClientConfig(server, serverIdentity, trustBundle, certificate, privateKey, token,
                connectTimeout, requestTimeout);
    }

    public ControlPlaneClientConfig withTimeouts(Duration connect, Duration request) {
        return new ControlPlaneClientConfig(server, serverIdentity, trustBundle, certificate, privateKey, bearerToken,
                connect, request);
    }

    @Override
    public String toString() {
        return "ControlPlaneClientConfig[server=" + server + ", serverIdentity=" + serverIdentity + ", trustBundle="
                + trustBundle + ", certificate=" + certificate + ", privateKey=" + privateKey + ", bearerToken="
                + (bearerToken == null ? "none" : "<redacted>") + ", connectTimeout=" + connectTimeout
                + ", requestTimeout=" + requestTimeout + "]";
    }
}
