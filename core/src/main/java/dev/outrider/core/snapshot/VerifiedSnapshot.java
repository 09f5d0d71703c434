package dev.outrider.core.snapshot;

import dev.outrider.core.policy.PolicyDocument;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * A snapshot {@link SnapshotVerifier} accepted, with its policy text already parsed: the sidecar compiles
 * {@link #policies()} and never parses the text a second time.
 *
 * @param snapshot the verified snapshot (signature, workload, version floor)
 * @param policies the documents of {@code snapshot.policies()}, in order, as the verifier parsed them
 */
public record VerifiedSnapshot(WorkloadSnapshot snapshot, List<PolicyDocument> policies) {
    public VerifiedSnapshot {
        requireNonNull(snapshot, "snapshot");
        policies = List.copyOf(policies);
    }

    public String version() {
        return snapshot.version();
    }

    public long versionNumber() {
        return snapshot.versionNumber();
    }
}
