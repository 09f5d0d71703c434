package dev.outrider.core.policy;

import java.util.Map;
import java.util.TreeMap;

import static java.util.Objects.requireNonNull;

/**
 * Istio's PeerAuthentication: which connections the inbound listener of the workloads it selects accepts, mTLS
 * from other sidecars only ({@link Mode#STRICT}), mTLS and plaintext on the same port ({@link Mode#PERMISSIVE},
 * for migrating callers into the mesh), or plaintext only ({@link Mode#DISABLE}). {@link PeerAuthentications}
 * decides which document applies to a workload and port (workload-specific over namespace over mesh; STRICT when
 * none does).
 *
 * @param selector      which workloads of the namespace; {@link WorkloadSelector#ALL} (absent or empty
 *                      {@code matchLabels}): the whole namespace, or the whole mesh in the mesh's root namespace
 * @param mode          {@code spec.mtls.mode}; {@link Mode#UNSET} (also when absent) inherits from the level above
 * @param portLevelMtls mode by the workload's application port ({@code spec.portLevelMtls}); only with a selector
 */
public record PeerAuthentication(ObjectMeta metadata, WorkloadSelector selector, Mode mode,
                                 Map<Integer, Mode> portLevelMtls) implements PolicyDocument {
    /** Istio's {@code PeerAuthentication.MutualTLS.Mode}, with Istio's names. */
    public enum Mode {
        /** Inherit from the level above (namespace, then mesh); STRICT when nothing above sets a mode. */
        UNSET,
        /** Plaintext only: a TLS handshake is refused. */
        DISABLE,
        /** mTLS or plaintext, told apart by the connection's first bytes. */
        PERMISSIVE,
        /** mTLS only, with a client certificate of the mesh. */
        STRICT
    }

    public PeerAuthentication {
        requireNonNull(metadata, "metadata");
        selector = selector == null ? WorkloadSelector.ALL : selector;
        mode = mode == null ? Mode.UNSET : mode;
        portLevelMtls = portLevelMtls == null ? Map.of() : Map.copyOf(new TreeMap<>(portLevelMtls));
    }

    @Override
    public String kind() {
        return "PeerAuthentication";
    }

    /** Whether it names workloads ({@code selector.matchLabels} not empty) rather than a namespace or the mesh. */
    public boolean workloadSpecific() {
        return !selector.matchLabels().isEmpty();
    }

    /** The mode this document sets for {@code port}: its port-level mode, else its {@link #mode()}; may be UNSET. */
    public Mode modeFor(int port) {
        Mode m = portLevelMtls.get(port);
        return m == null || m == Mode.UNSET ? mode : m;
    }
}
