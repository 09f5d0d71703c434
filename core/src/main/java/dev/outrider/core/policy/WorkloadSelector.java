package dev.outrider.core.policy;

import java.util.Map;

/**
 * Which workloads of the document's namespace a policy applies to ({@code selector.matchLabels}); absent or
 * empty means all of them. Labels of a workload are its service ({@code app}) and any labels it declares.
 */
public record WorkloadSelector(Map<String, String> matchLabels) {
    public static final WorkloadSelector ALL = new WorkloadSelector(Map.of());

    public WorkloadSelector {
        matchLabels = matchLabels == null ? Map.of() : Map.copyOf(matchLabels);
    }

    public boolean selects(Map<String, String> workloadLabels) {
        for (Map.Entry<String, String> e : matchLabels.entrySet()) {
            if (!e.getValue().equals(workloadLabels.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
