package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.controlplane.audit.AuditNote;
import dev.outrider.controlplane.audit.AuditedRoutes;
import dev.outrider.core.document.Durations;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.controlplane.ca.BootstrapAuthenticator;
import dev.outrider.controlplane.ca.CaException;
import dev.outrider.controlplane.ca.SignedCertificate;
import dev.outrider.controlplane.ca.JoinTokens;
import dev.outrider.controlplane.ca.WorkloadCa;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.server.Access;
import dev.outrider.controlplane.server.ApiException;
import dev.outrider.controlplane.server.ApiRequest;
import dev.outrider.controlplane.server.ApiResponse;
import dev.outrider.controlplane.server.Caller;
import dev.outrider.controlplane.server.Json;
import dev.outrider.controlplane.server.Router;
import dev.outrider.core.pem.Pem;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * Workload certificates (docs/control-plane.md "Certificates"), both on the worker executor (signing):
 * <ul>
 *   <li>{@code POST /v1/join-tokens} (admin) {@code {"namespace", "serviceAccount", "ttl"}} → 201
 *       {@code {"token", "identity", "expiresAt"}}: single use, 1 h by default, at most 24 h.</li>
 *   <li>{@code POST /v1/certificates} {@code {"csr"}} with a join token (spent here), a Kubernetes
 *       service-account token (when enabled) or the workload's certificate (renewal) → 200 {@code {"identity",
 *       "certificateChain", "trustBundle", "notAfter"}}. The identity comes from the credential, never the CSR:
 *       a CSR naming another is 403. A refused credential is 401, logged with the reason (never the token).</li>
 * </ul>
 * A single-use join token is spent last: the credential is checked (spending nothing), the CSR is checked and
 * signed, and only then is the token spent, atomically. So a request refused for any reason (unreadable body or
 * CSR, a CSR naming another identity, a CA that cannot sign) leaves the token usable for the corrected request,
 * and of concurrent requests with one token exactly one gets its certificate; the others' are discarded unseen
 * and they get 401 "already used".
 */
public final class CertificateRoutes {
    private static final Logger log = LoggerFactory.getLogger(CertificateRoutes.class);
    static final Duration DEFAULT_JOIN_TOKEN_TTL = Duration.ofHours(1);
    static final Duration MAX_JOIN_TOKEN_TTL = Duration.ofHours(24);

    private final WorkloadCa ca;
    private final JoinTokens joinTokens;
    private final BootstrapAuthenticator bootstrap;
    private final Supplier<Duration> certificateTtl;
    private final String trustBundle;

    /**
     * @param joinTokens     where join tokens are issued
     * @param bootstrap      what verifies a bearer credential (join tokens and, when enabled, service-account tokens)
     * @param certificateTtl the lifetime of issued certificates, read per request (the mesh config can change it)
     */
    public CertificateRoutes(WorkloadCa ca, JoinTokens joinTokens, BootstrapAuthenticator bootstrap,
                             X509Certificate trustAnchor, Supplier<Duration> certificateTtl) {
        this.ca = requireNonNull(ca, "ca");
        this.joinTokens = requireNonNull(joinTokens, "joinTokens");
        this.bootstrap = requireNonNull(bootstrap, "bootstrap");
        this.certificateTtl = requireNonNull(certificateTtl, "certificateTtl");
        this.trustBundle = Pem.write(requireNonNull(trustAnchor, "trustAnchor"));
    }

    /**
     * Join tokens through {@code audited} (each issue, or refusal, is recorded: kind {@code JoinToken}, the identity's
     * namespace and service account, never the token); certificates on {@code routes}, not recorded (machine traffic,
     * logged).
     */
    public void register(Router.Builder routes, AuditedRoutes audited) {
        audited.route(HttpMethod.POST, "/v1/join-tokens", Access.ADMIN, "create",
                (request, note) -> note.target(JoinTokens.KIND, null, null), this::issueJoinToken);
        routes.blocking(HttpMethod.POST, "/v1/certificates", Access.CERTIFICATE, this::issueCertificate);
    }

    ApiResponse issueJoinToken(ApiRequest request, AuditNote note) {
        ObjectNode body = Json.object(request, Set.of("namespace", "serviceAccount", "ttl"));
        String namespace = label(body, "namespace");
        String serviceAccount = label(body, "serviceAccount");
        note.target(JoinTokens.KIND, namespace, serviceAccount);
        String ttlText = Json.optionalText(body, "ttl");
        Duration ttl = ttlText == null ? DEFAULT_JOIN_TOKEN_TTL
                : ttl(ttlText, Duration.ofSeconds(1), MAX_JOIN_TOKEN_TTL);
        WorkloadIdentity identity = new WorkloadIdentity(ca.trustDomain(), namespace, serviceAccount);
        JoinTokens.Grant grant = joinTokens.issue(identity, ttl, true);
        log.info("join token issued for {} by {}, expires {}", identity, request.caller().describe(), grant.expiresAt());
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("token", grant.token().value());
        out.put("identity", identity.toString());
        out.put("expiresAt", grant.expiresAt().toString());
        return ApiResponse.json(HttpResponseStatus.CREATED, out);
    }

    /** {@code ttl} ({@link Durations}); 400 naming the field unless it lies in [{@code min}, {@code max}]. */
    private static Duration ttl(String text, Duration min, Duration max) {
        Duration d;
        try {
            d = Durations.parse(text);
        } catch (IllegalArgumentException e) {
            d = null;
        }
        if (d == null || d.isZero()) {
            throw ApiException.invalid("ttl", "field 'ttl' must be a duration such as 90s, 30m, 1h or 1d, not '"
                    + printable(text) + "'");
        }
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw ApiException.invalid("ttl", "field 'ttl' must lie between " + Durations.formatInSeconds(min)
                    + " and " + Durations.formatInSeconds(max) + ", not " + printable(text));
        }
        return d;
    }

    private static String printable(String text) {
        String cut = text.length() > 40 ? text.substring(0, 40) + "..." : text;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }

    ApiResponse issueCertificate(ApiRequest request) {
        ObjectNode body = Json.object(request, Set.of("csr"));
        String csr = Json.requiredText(body, "csr");
        try {
            WorkloadIdentity identity = identity(request.caller());
            SignedCertificate issued = ca.sign(csr, identity, certificateTtl.get());
            if (request.caller() instanceof Caller.Bearer bearer) {
                bootstrap.spend(bearer.credential()); // last: nothing after this can refuse the request
            }
            log.info("certificate issued for {} ({}): serial {}, until {}", identity, request.caller().describe(),
                    issued.certificate().getSerialNumber().toString(16), issued.notAfter());
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("identity", identity.toString());
            out.put("certificateChain", issued.pemChain());
            out.put("trustBundle", trustBundle);
            out.put("notAfter", issued.notAfter().toString());
            return ApiResponse.json(HttpResponseStatus.OK, out);
        } catch (CaException e) {
            throw switch (e.reason()) {
                case UNAUTHENTICATED -> {
                    log.info("certificate refused: {}", e.getMessage()); // names the credential's kind, never its value
                    yield ApiException.unauthenticated(e.getMessage());
                }
                case INVALID_REQUEST -> ApiException.invalid("csr", e.getMessage());
                case IDENTITY_MISMATCH -> ApiException.forbidden(e.getMessage());
                case CA_UNUSABLE -> {
                    log.error("the CA cannot sign: {}", e.getMessage());
                    yield ApiException.unavailable("the control plane's CA cannot sign now");
                }
            };
        }
    }

    /** The identity the credential proves; spends nothing. Blocks (a key-set file read): worker only. */
    private WorkloadIdentity identity(Caller caller) throws CaException {
        return switch (caller) {
            case Caller.Bearer bearer -> bootstrap.authenticate(bearer.credential());
            case Caller.Workload workload -> workload.identity();
            case Caller.Admin admin -> {
                if (admin.certificateIdentity() == null) {
                    throw ApiException.forbidden("an admin token proves no workload identity;"
                            + " present a join token, a service-account token or the workload's client certificate");
                }
                yield admin.certificateIdentity();
            }
            case Caller.Anonymous anonymous -> throw ApiException.unauthenticated(anonymous.why());
        };
    }

    private static String label(ObjectNode body, String field) {
        String value = Json.requiredText(body, field);
        if (!DnsLabel.isValid(value)) {
            throw ApiException.invalid(field, "field '" + field + "' must be an RFC 1123 label"
                    + " (lower-case letters, digits and '-', at most 63)");
        }
        return value;
    }
}
