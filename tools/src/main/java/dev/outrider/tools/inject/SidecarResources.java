package dev.outrider.tools.inject;

import static java.util.Objects.requireNonNull;

/**
 * The injected container's {@code resources}: CPU and memory requests and limits, each a Kubernetes quantity.
 * Valid by construction: memory in whole bytes ({@code 128m} is 0.128 bytes, almost always meant as {@code 128Mi}),
 * and no request above its limit (the API server refuses such a pod).
 */
public record SidecarResources(Quantity cpuRequest, Quantity memoryRequest, Quantity cpuLimit, Quantity memoryLimit) {
    /** Defaults sized by bench/RESULTS.md "JVM defaults" (RSS ~170 MiB at 1,000 req/s with -Xmx96m, heap + direct
     * memory at most 192 MiB on top of ~110 MiB native): requests cpu 100m memory 192Mi; limits cpu 1 memory 384Mi. */
    public static final SidecarResources DEFAULT = of("100m", "192Mi", "1", "384Mi");

    public SidecarResources {
        requireNonNull(cpuRequest, "cpuRequest");
        requireNonNull(memoryRequest, "memoryRequest");
        requireNonNull(cpuLimit, "cpuLimit");
        requireNonNull(memoryLimit, "memoryLimit");
        wholeBytes("--memory-request", memoryRequest);
        wholeBytes("--memory-limit", memoryLimit);
        notAbove("--cpu-request", cpuRequest, "--cpu-limit", cpuLimit);
        notAbove("--memory-request", memoryRequest, "--memory-limit", memoryLimit);
    }

    /**
     * Parses the four quantities, named by their options in errors.
     *
     * @throws IllegalArgumentException {@code --cpu-limit: 'x' is not a Kubernetes quantity (...)} and the like
     */
    public static SidecarResources of(String cpuRequest, String memoryRequest, String cpuLimit, String memoryLimit) {
        return new SidecarResources(parse("--cpu-request", cpuRequest), parse("--memory-request", memoryRequest),
                parse("--cpu-limit", cpuLimit), parse("--memory-limit", memoryLimit));
    }

    private static Quantity parse(String option, String text) {
        requireNonNull(text, option);
        try {
            return Quantity.parse(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
    }

    private static void wholeBytes(String option, Quantity q) {
        if (!q.whole()) {
            throw new IllegalArgumentException(option + ": '" + q + "' is a fraction of a byte"
                    + (q.text().endsWith("m") ? " (m is milli; Mi is mebibytes)" : ""));
        }
    }

    private static void notAbove(String requestOption, Quantity request, String limitOption, Quantity limit) {
        if (request.value().compareTo(limit.value()) > 0) {
            throw new IllegalArgumentException(requestOption + " " + request + " is more than " + limitOption + " "
                    + limit + " (Kubernetes refuses a request above its limit)");
        }
    }
}
