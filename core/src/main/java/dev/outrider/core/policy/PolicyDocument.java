package dev.outrider.core.policy;

/**
 * A policy document ({@code apiVersion: outrider.dev/v1}): Kubernetes-shaped, with Istio's field names and
 * semantics where Istio has the concept, so policies port over and can become CRDs later.
 */
public sealed interface PolicyDocument permits AuthorizationPolicy, RequestAuthentication, RateLimitPolicy,
        PeerAuthentication, ServiceEntry {
    String API_VERSION = "outrider.dev/v1";

    ObjectMeta metadata();

    /**
     * {@code AuthorizationPolicy}, {@code RequestAuthentication}, {@code RateLimitPolicy}, {@code PeerAuthentication},
     * {@code ServiceEntry}.
     */
    String kind();

    /** Which workloads of the document's namespace it applies to. */
    WorkloadSelector selector();
}
