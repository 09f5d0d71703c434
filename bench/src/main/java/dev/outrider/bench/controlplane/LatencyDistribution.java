package dev.outrider.bench.controlplane;

import org.HdrHistogram.Histogram;

import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * One measured latency: an HdrHistogram in microseconds (3 significant digits, auto-resizing), read out in
 * milliseconds as one markdown table row. Not thread-safe: one thread records and prints.
 */
final class LatencyDistribution {
    static final String HEADER = "| latency (ms) | n | p50 | p90 | p99 | max | mean |\n"
            + "|---|---:|---:|---:|---:|---:|---:|";

    private final String name;
    private final Histogram histogram = new Histogram(3);

    LatencyDistribution(String name) {
        this.name = requireNonNull(name, "name");
    }

    /** Records {@code nanos} (rounded to the microsecond; a negative value, a clock step, counts as 0). */
    void recordNanos(long nanos) {
        histogram.recordValue(Math.max(0, (nanos + 500) / 1000));
    }

    long count() {
        return histogram.getTotalCount();
    }

    /** The {@code percentile} (0..100) in milliseconds; NaN when nothing was recorded. */
    double percentileMillis(double percentile) {
        return count() == 0 ? Double.NaN : histogram.getValueAtPercentile(percentile) / 1000.0;
    }

    double maxMillis() {
        return count() == 0 ? Double.NaN : histogram.getMaxValue() / 1000.0;
    }

    /** {@code | name | n | p50 | p90 | p99 | max | mean |}. */
    String row() {
        return String.format(Locale.ROOT, "| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |", name, count(),
                percentileMillis(50), percentileMillis(90), percentileMillis(99), maxMillis(),
                count() == 0 ? Double.NaN : histogram.getMean() / 1000.0);
    }
}
