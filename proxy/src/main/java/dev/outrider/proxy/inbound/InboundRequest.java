package dev.outrider.proxy.inbound;

import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.accesslog.AuthSource;
import dev.outrider.proxy.authn.ClaimValues;
import dev.outrider.proxy.authn.JwtVerifier;
import dev.outrider.proxy.authz.RequestAttributes;
import dev.outrider.proxy.policy.PolicySnapshot;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;

import java.util.List;

/**
 * The request being checked on one request channel (an HTTP/1.1 connection, one request after another, or
 * an HTTP/2 stream), shared by the inbound checks ({@link AuthnHandler}, {@link AuthzHandler},
 * {@link RateLimitHandler}) and the forwarding handler: the policy snapshot read once for the request, the
 * verified token, the {@link RequestAttributes} view authorization matches on, and the outcome the access log
 * records for a forwarded request ({@link AuthSource}; a refused one is logged by {@link LocalReply}).
 *
 * <p>Threading: used on the channel's event loop only, so no field needs {@code volatile}.
 */
final class InboundRequest implements RequestAttributes, AuthSource {
    private final int destinationPort;
    private InboundPeer peer;
    private HttpRequest request;
    private String path;
    private JwtVerifier.Result.Valid jwt;
    private PolicySnapshot snapshot;
    private AccessLogEntry.Auth auth;
    long startNanos;
    long startMillis;
    /** After a local reply: drop the refused request's remaining messages (until its end, or for good). */
    boolean discarding;
    boolean discardingForever;

    /** @param destinationPort the application's port: what {@code destination.port} and {@code ports} match */
    InboundRequest(int destinationPort) {
        this.destinationPort = destinationPort;
    }

    /** A new request: pins the snapshot it is checked against. */
    void begin(InboundPeer peer, HttpRequest request, PolicySnapshot snapshot) {
        this.peer = peer;
        this.request = request;
        this.snapshot = snapshot;
        this.jwt = null;
        this.path = null;
        this.auth = null;
        this.startNanos = System.nanoTime();
        this.startMillis = System.currentTimeMillis();
    }

    void authenticated(JwtVerifier.Result.Valid jwt) {
        this.jwt = jwt;
    }

    /** What authorization (and then rate limiting, in dry run) decided for a request that goes on. */
    void recordAuth(AccessLogEntry.Auth auth) {
        this.auth = auth;
    }

    @Override
    public AccessLogEntry.Auth auth() {
        return auth;
    }

    HttpRequest request() {
        return request;
    }

    PolicySnapshot snapshot() {
        return snapshot;
    }

    InboundPeer peer() {
        return peer;
    }

    @Override
    public String sourcePrincipal() {
        return peer.principal();
    }

    @Override
    public String sourceNamespace() {
        return peer.namespace();
    }

    @Override
    public byte[] sourceIp() {
        return peer.ip();
    }

    @Override
    public String sourceAddress() {
        return peer.address();
    }

    @Override
    public String requestPrincipal() {
        return jwt == null ? null : jwt.requestPrincipal();
    }

    @Override
    public Object claim(String[] path) {
        return jwt == null ? null : ClaimValues.claim(jwt.claims(), path);
    }

    @Override
    public List<String> audiences() {
        return jwt == null ? List.of() : jwt.audiences();
    }

    @Override
    public String method() {
        return request.method().name();
    }

    @Override
    public String host() {
        return request.headers().get(HttpHeaderNames.HOST);
    }

    @Override
    public int port() {
        return destinationPort;
    }

    /** The normalized path (normalization ran before this handler), without the query; computed once. */
    @Override
    public String path() {
        String p = path;
        if (p == null) {
            String uri = request.uri();
            int q = uri.indexOf('?');
            p = q < 0 ? uri : uri.substring(0, q);
            path = p;
        }
        return p;
    }

    @Override
    public String header(CharSequence lowerCaseName) {
        return request.headers().get(lowerCaseName);
    }
}
