package dev.outrider.proxy.policy;

import dev.outrider.core.policy.PeerAuthentications;
import dev.outrider.proxy.authn.RequestAuthenticator;
import dev.outrider.proxy.authz.CompiledPolicies;
import dev.outrider.proxy.egress.EgressTable;
import dev.outrider.proxy.ratelimit.RateLimits;

import java.time.Instant;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The policies in force for this workload, compiled: one immutable value that {@link PolicyStore} swaps as a
 * whole. A request reads the current snapshot once and uses it to the end, so authentication and
 * authorization of one request always come from the same version.
 *
 * @param version        identifies the documents (a content hash for a directory; the control plane's
 *                       version later); {@code none} when there is no policy source
 * @param source         where the documents came from, for logs and {@code /config}
 * @param appliedAt      when this snapshot was compiled
 * @param documents      how many policy documents the source held (all workloads)
 * @param policies       {@code namespace/name} of the AuthorizationPolicies that apply to this workload
 * @param authentication the RequestAuthentication rules that apply to this workload
 * @param authorization  the AuthorizationPolicies that apply, compiled
 * @param meters         per-policy decision counters, registered when the snapshot was compiled
 * @param rateLimits     the RateLimitPolicy rules that apply, compiled (their budgets outlive the snapshot)
 * @param mtls           the PeerAuthentication mode of the inbound application port and the document that set it;
 *                       the inbound listener reads it once per connection
 * @param refusal        null normally; otherwise every inbound request is refused (503) with this reason:
 *                       the sidecar fails closed while it has no policies it can trust (no snapshot from the
 *                       control plane yet and no valid last-known-good)
 * @param egress         the ServiceEntries exported to this workload and the policies targeting them, compiled: what
 *                       the outbound listener may reach outside the mesh
 */
public record PolicySnapshot(String version, String source, Instant appliedAt, int documents, List<String> policies,
                             RequestAuthenticator authentication, CompiledPolicies authorization,
                             DecisionMeters meters, RateLimits rateLimits, PeerAuthentications.Effective mtls,
                             String refusal, EgressTable egress) {
    /** Without external services. */
    public PolicySnapshot(String version, String source, Instant appliedAt, int documents, List<String> policies,
                          RequestAuthenticator authentication, CompiledPolicies authorization,
                          DecisionMeters meters, RateLimits rateLimits, PeerAuthentications.Effective mtls,
                          String refusal) {
        this(version, source, appliedAt, documents, policies, authentication, authorization, meters, rateLimits,
                mtls, refusal, EgressTable.EMPTY);
    }

    public PolicySnapshot {
        requireNonNull(version, "version");
        requireNonNull(source, "source");
        requireNonNull(appliedAt, "appliedAt");
        policies = List.copyOf(policies);
        requireNonNull(authentication, "authentication");
        requireNonNull(authorization, "authorization");
        requireNonNull(meters, "meters");
        requireNonNull(rateLimits, "rateLimits");
        requireNonNull(mtls, "mtls");
        requireNonNull(egress, "egress");
    }

    /** This snapshot, refusing every inbound request with {@code reason} (fail closed). */
    public PolicySnapshot refusing(String reason) {
        requireNonNull(reason, "reason");
        return new PolicySnapshot(version, source, appliedAt, documents, policies, authentication, authorization,
                meters, rateLimits, mtls, reason, egress);
    }
}
