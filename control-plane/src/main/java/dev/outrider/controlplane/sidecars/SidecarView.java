package dev.outrider.controlplane.sidecars;

import java.time.Instant;

import static java.util.Objects.requireNonNull;

/**
 * One sidecar instance as {@code GET /v1/sidecars} shows it.
 *
 * @param identity       its SPIFFE ID
 * @param instance       the instance name it registers and reports under
 * @param service        the service it last registered; null when it never registered
 * @param address        the address it last registered; null when it never registered
 * @param lastSeen       its last registration or report
 * @param latestVersion  the version of the snapshot the control plane has for it; null when none was compiled
 * @param appliedVersion the highest version it acknowledged; null when none
 * @param state          {@code ACK} (it applied the latest version), {@code NACK} (it refused the latest version
 *                       it reported on) or {@code PENDING} (it has not reported on the latest version yet)
 * @param error          the refusal it reported, when {@code NACK}; otherwise null
 * @param plaintextConnections the plaintext connections its inbound listener accepted since it started (callers
 *                       without a sidecar, on a PERMISSIVE port), as it last reported; null when it never reported
 * @param plaintextLastGrew when the control plane last saw that count grow; null when it never did
 */
public record SidecarView(String identity, String instance, String service, String address, Instant lastSeen,
                          Long latestVersion, Long appliedVersion, String state, String error,
                          Long plaintextConnections, Instant plaintextLastGrew) {
    public static final String ACK = "ACK";
    public static final String NACK = "NACK";
    public static final String PENDING = "PENDING";

    public SidecarView {
        requireNonNull(identity, "identity");
        requireNonNull(instance, "instance");
        requireNonNull(lastSeen, "lastSeen");
        requireNonNull(state, "state");
    }
}
