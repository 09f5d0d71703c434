package dev.outrider.controlplane.ca;

import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.model.SpiffeId;

import static java.util.Objects.requireNonNull;

/**
 * An authenticated workload: what a bootstrap credential proved, and the only source of the identity in
 * an issued certificate (never the CSR). Its SPIFFE ID is {@code spiffe://<td>/ns/<ns>/sa/<sa>}.
 *
 * @param trustDomain    a SPIFFE trust domain (lower-case letters, digits, '.', '-', '_')
 * @param namespace      a Kubernetes namespace (RFC 1123 label)
 * @param serviceAccount a Kubernetes service account (RFC 1123 label)
 */
public record WorkloadIdentity(String trustDomain, String namespace, String serviceAccount) {
    public WorkloadIdentity {
        requireNonNull(trustDomain, "trustDomain");
        requireNonNull(namespace, "namespace");
        requireNonNull(serviceAccount, "serviceAccount");
        if (!DnsLabel.isValid(namespace)) {
            throw new IllegalArgumentException("namespace '" + namespace + "' is not an RFC 1123 label");
        }
        if (!DnsLabel.isValid(serviceAccount)) {
            throw new IllegalArgumentException("service account '" + serviceAccount + "' is not an RFC 1123 label");
        }
        SpiffeId.ofServiceAccount(trustDomain, namespace, serviceAccount); // validates the trust domain
    }

    public SpiffeId spiffeId() {
        return SpiffeId.ofServiceAccount(trustDomain, namespace, serviceAccount);
    }

    @Override
    public String toString() {
        return spiffeId().toString();
    }
}
