package dev.outrider.controlplane.server;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.controlplane.ca.BootstrapCredential;
import dev.outrider.controlplane.ca.WorkloadIdentity;

import java.security.cert.X509Certificate;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Derives the {@link Caller} of one request from what the connection and the request prove; a pure
 * function of its inputs (no token is spent here, see {@link Caller.Bearer}). Rules, in order:
 * <ol>
 *   <li>An {@code Authorization} header must be {@code Bearer <token>} (RFC 6750 §2.1, scheme case-insensitive);
 *       anything else is refused (401), a certificate notwithstanding: a credential that was presented and
 *       fails is never silently ignored. The admin token makes the caller an admin; any other token is a
 *       {@link Caller.Bearer}: a service-account token when it has a {@code '.'} (a JWT), else a join token
 *       ({@link BootstrapCredential#fromBearer}), checked only where one is accepted.</li>
 *   <li>Else a client certificate (already verified by the TLS stack against the mesh CA): its SPIFFE ID in
 *       {@code adminIdentities} makes an admin; {@code spiffe://<td>/ns/N/sa/S} a workload; any other ID is
 *       anonymous (401).</li>
 *   <li>Else anonymous.</li>
 * </ol>
 * Immutable and thread-safe; messages never contain a token.
 */
public final class Authenticator {
    private static final String BEARER = "Bearer ";

    private final String trustDomain;
    private final Set<SpiffeId> adminIdentities;
    private final AdminToken adminToken;

    /** @param adminTokenOrNull the development admin token, or null when token auth is off */
    public Authenticator(String trustDomain, Set<SpiffeId> adminIdentities, AdminToken adminTokenOrNull) {
        this.trustDomain = requireNonNull(trustDomain, "trustDomain");
        this.adminIdentities = Set.copyOf(requireNonNull(adminIdentities, "adminIdentities"));
        this.adminToken = adminTokenOrNull;
    }

    /**
     * @param peerOrNull          the verified client certificate (leaf), or null when none was presented
     * @param authorizationOrNull the {@code Authorization} header, or null
     */
    public Caller authenticate(X509Certificate peerOrNull, String authorizationOrNull) {
        CertificateCaller certificate = peerOrNull == null ? null : fromCertificate(peerOrNull);
        if (authorizationOrNull != null) {
            if (!authorizationOrNull.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
                return new Caller.Anonymous("Authorization header is not a Bearer token");
            }
            String token = authorizationOrNull.substring(BEARER.length()).strip();
            if (token.isEmpty()) {
                return new Caller.Anonymous("Authorization header holds an empty Bearer token");
            }
            if (adminToken != null && adminToken.matches(token)) {
                return new Caller.Admin(certificate == null ? null : certificate.workload(), Caller.Admin.TOKEN);
            }
            return new Caller.Bearer(BootstrapCredential.fromBearer(token));
        }
        if (certificate == null) {
            return new Caller.Anonymous("no client certificate and no bearer token");
        }
        return certificate.caller();
    }

    /** What a certificate alone proves, and its workload identity when it has one. */
    private record CertificateCaller(Caller caller, WorkloadIdentity workload) {
    }

    private CertificateCaller fromCertificate(X509Certificate leaf) {
        SpiffeId id;
        try {
            id = PeerIdentities.spiffeId(leaf);
        } catch (IllegalArgumentException e) {
            return new CertificateCaller(new Caller.Anonymous(e.getMessage()), null);
        }
        WorkloadIdentity workload = workload(id);
        if (adminIdentities.contains(id)) {
            return new CertificateCaller(new Caller.Admin(workload, id.toString()), workload);
        }
        if (workload != null) {
            return new CertificateCaller(new Caller.Workload(workload), workload);
        }
        return new CertificateCaller(new Caller.Anonymous("client certificate identity " + id
                + " is neither an admin identity nor a workload (spiffe://" + trustDomain + "/ns/N/sa/S)"), null);
    }

    private WorkloadIdentity workload(SpiffeId id) {
        if (!id.trustDomain().equals(trustDomain) || id.namespace() == null) {
            return null;
        }
        try {
            return new WorkloadIdentity(trustDomain, id.namespace(), id.serviceAccount());
        } catch (IllegalArgumentException e) {
            return null; // segments that are not DNS labels: not a Kubernetes workload
        }
    }
}
