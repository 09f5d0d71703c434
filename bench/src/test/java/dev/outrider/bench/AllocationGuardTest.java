package dev.outrider.bench;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * CI's allocation guard: {@link AllocationGuard} over {@code bench/alloc-budgets.properties}. Fails when a
 * guarded benchmark allocates more bytes per operation than its budget, when one has no budget, or when a
 * budget names a benchmark that did not run. The table (with times, reported and never checked) goes to the
 * build log either way.
 */
class AllocationGuardTest {
    @Test
    void everyGuardedBenchmarkStaysWithinItsAllocationBudget() throws Exception {
        AllocationGuard.Report report = AllocationGuard.run(Path.of("alloc-budgets.properties"));
        System.out.print(report.text());
        assertThat(report.passed()).as("allocation budgets (bench/alloc-budgets.properties):%n%s", report.text())
                .isTrue();
    }
}
