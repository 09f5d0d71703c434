package dev.outrider.proxy.inbound;

import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.accesslog.AuthSource;
import dev.outrider.proxy.accesslog.SecurityEvent;
import dev.outrider.proxy.authn.ClaimValues;
import dev.outrider.proxy.authn.JwtVerifier;
import dev.outrider.proxy.authz.Decision;
import dev.outrider.proxy.authz.RequestAttributes;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.policy.PolicySnapshot;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;

import java.util.List;

/**
 * The request being checked on one request channel (an HTTP/1.1 connection, one request after another, or
 * an HTTP/2 stream), shared by the inbound checks ({@link AuthnHandler}, {@link AuthzHandler},
 * {@link RateLimitHandler}) and the forwarding handler: the policy snapshot read once for the request, the
 * verified token, the {@link RequestAttributes} view authorization matches on, and what the checks decided,
 * which the access log records ({@link AuthSource}: for a forwarded request at the exchange's end, for a refused
 * one by {@link LocalReply}). The checks record their outcomes as the values they already hold (the
 * {@link Decision}, a refusal's fixed text); the {@link AccessLogEntry.Auth} is built from them only when the
 * access log asks for it, so a request allocates none with the access log off.
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
    /** Why authentication refused the token, or null. */
    private String authn;
    /** What authorization decided, or null before it ran (or when the request was refused before it). */
    private Decision decision;
    /** The authorization outcome's text when no {@link #decision} stands for it (no usable snapshot), or null. */
    private String refusal;
    /** The rate-limit rule that refused the request, or would have in dry run; or null. */
    private String rateLimit;
    /** The policy and rule name behind {@link #rateLimit}, or null. */
    private String rateLimitPolicy;
    private String rateLimitRule;
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
        this.authn = null;
        this.decision = null;
        this.refusal = null;
        this.rateLimit = null;
        this.rateLimitPolicy = null;
        this.rateLimitRule = null;
        this.startNanos = System.nanoTime();
        this.startMillis = System.currentTimeMillis();
    }

    void authenticated(JwtVerifier.Result.Valid jwt) {
        this.jwt = jwt;
    }

    /** Authentication refused the request's token: {@code reason} is a fixed text, never token content. */
    void recordAuthnRefusal(String reason) {
        this.authn = reason;
    }

    /** The request was refused before authorization could run: {@code text} stands for its outcome. */
    void recordRefusal(String text) {
        this.refusal = text;
    }

    /** What authorization decided (allowed or not). */
    void recordDecision(Decision decision) {
        this.decision = decision;
    }

    /** The rate-limit outcome (a refusal, or a dry-run one on a request that goes on), and its policy and rule. */
    void recordRateLimit(String outcome, String policy, String rule) {
        this.rateLimit = outcome;
        this.rateLimitPolicy = policy;
        this.rateLimitRule = rule;
    }

    /** What a local reply to this request refuses, from what the checks recorded. */
    SecurityEvent.Type refusalType() {
        if (rateLimit != null) {
            return SecurityEvent.Type.RATE_LIMITED;
        }
        if (authn != null) {
            return SecurityEvent.Type.AUTHN_REFUSED;
        }
        return decision != null ? SecurityEvent.Type.AUTHZ_DENIED : SecurityEvent.Type.POLICY_UNAVAILABLE;
    }

    /**
     * The security event of this request's refusal, or of its dry-run one ({@code AUTHZ_DENIED_DRY_RUN},
     * {@code RATE_LIMITED_DRY_RUN}), from what the checks recorded. Built only for a refusal and only when the
     * stream is on; the path is cut from its query by the writer; of a refused token, only its issuer and key id.
     */
    SecurityEvent securityEvent(SecurityEvent.Type type, String requestId) {
        String policy = null;
        String rule = null;
        String reason;
        JwtVerifier.Hints jwt = null;
        switch (type) {
            case AUTHN_REFUSED -> {
                reason = authn;
                jwt = snapshot.authentication().refusedTokenHints(request);
            }
            case AUTHZ_DENIED, AUTHZ_DENIED_DRY_RUN -> {
                Decision d = type == SecurityEvent.Type.AUTHZ_DENIED ? decision : decision.shadow();
                policy = d.policy();
                rule = d.rule() < 0 ? null : Integer.toString(d.rule());
                reason = d.reason();
            }
            case RATE_LIMITED, RATE_LIMITED_DRY_RUN -> {
                policy = rateLimitPolicy;
                rule = rateLimitRule;
                reason = rateLimit;
            }
            default -> reason = refusal;
        }
        String principal = peer.principal();
        return new SecurityEvent(System.currentTimeMillis(), type, Direction.INBOUND,
                principal == null ? null : "spiffe://" + principal, peer.address(), null, method(), request.uri(),
                host(), policy, rule, reason, requestId, jwt == null ? null : jwt.issuer(),
                jwt == null ? null : jwt.keyId());
    }

    /** The recorded outcomes as the access log's audit part; null when no check recorded any. Built per call. */
    @Override
    public AccessLogEntry.Auth auth() {
        Decision d = decision;
        if (d == null && authn == null && refusal == null && rateLimit == null) {
            return null;
        }
        String audit = d != null && d.audited() ? d.auditPolicy() + " rule " + d.auditRule() : null;
        Decision shadow = d == null ? null : d.shadow();
        return new AccessLogEntry.Auth(peer.principal(), authn, d == null ? refusal : d.reason(), audit,
                shadow == null ? null : shadow.reason(), rateLimit);
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
    public String peerPrincipal() {
        return peer == null ? null : peer.principal();
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
