package dev.outrider.core.policy;

import dev.outrider.core.policy.PeerAuthentication.Mode;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Which mTLS mode a workload's inbound port has, from the PeerAuthentications that apply to it, with Istio's
 * precedence: a workload-specific document (one whose selector has {@code matchLabels}) over the namespace's
 * (no selector, in the workload's namespace) over the mesh's (no selector, in the mesh's root namespace). A level
 * whose mode is {@link Mode#UNSET} inherits the level above; with nothing set the mode is {@link Mode#STRICT}.
 * Within a document, {@code portLevelMtls} for the port overrides {@code mtls.mode}. Where Istio takes the oldest
 * of several documents at one level, this takes the first by {@code namespace/name} (the sidecar has no creation
 * times) and names the others in {@link Effective#ignored()}, so the sidecar can warn. Pure function.
 */
public final class PeerAuthentications {
    /** The decision when no document sets a mode. */
    public static final String DEFAULT = "default (no PeerAuthentication sets a mode)";

    private PeerAuthentications() {
    }

    /**
     * @param mode      never UNSET
     * @param decidedBy {@code PeerAuthentication <namespace>/<name>} that set the mode, or {@link #DEFAULT}
     * @param ignored   {@code namespace/name} of documents left out because another one at the same level won
     */
    public record Effective(Mode mode, String decidedBy, List<String> ignored) {
        public static final Effective STRICT = new Effective(Mode.STRICT, DEFAULT, List.of());

        public Effective {
            requireNonNull(mode, "mode");
            requireNonNull(decidedBy, "decidedBy");
            ignored = List.copyOf(ignored);
            if (mode == Mode.UNSET) {
                throw new IllegalArgumentException("an effective mode is never UNSET");
            }
        }
    }

    /**
     * The mode of {@code port} for a workload of {@code workloadNamespace}.
     *
     * @param applying the documents that apply to the workload: in its namespace or the root namespace, with a
     *                 selector that selects its labels (the caller has filtered them, as for every policy kind)
     */
    public static Effective effective(List<PeerAuthentication> applying, String workloadNamespace,
                                      String rootNamespace, int port) {
        requireNonNull(applying, "applying");
        requireNonNull(workloadNamespace, "workloadNamespace");
        requireNonNull(rootNamespace, "rootNamespace");
        List<PeerAuthentication> mesh = new ArrayList<>();
        List<PeerAuthentication> namespace = new ArrayList<>();
        List<PeerAuthentication> workload = new ArrayList<>();
        for (PeerAuthentication p : applying) {
            String ns = p.metadata().namespace();
            if (p.workloadSpecific()) {
                workload.add(p);
            } else if (ns.equals(rootNamespace)) {
                mesh.add(p);
            } else if (ns.equals(workloadNamespace)) {
                namespace.add(p);
            }
        }
        Mode mode = Mode.STRICT;
        String decidedBy = DEFAULT;
        List<String> ignored = new ArrayList<>();
        for (List<PeerAuthentication> level : List.of(mesh, namespace, workload)) {
            if (level.isEmpty()) {
                continue;
            }
            level.sort(Comparator.comparing(p -> p.metadata().id()));
            PeerAuthentication chosen = level.getFirst();
            level.subList(1, level.size()).forEach(p -> ignored.add(p.metadata().id()));
            Mode m = chosen.modeFor(port);
            if (m != Mode.UNSET) {
                mode = m;
                decidedBy = chosen.kind() + " " + chosen.metadata().id();
            }
        }
        return new Effective(mode, decidedBy, ignored);
    }
}
