package dev.outrider.bench;

import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The allocation guard CI runs in the bench module's {@code verify} phase: a short JMH run with the GC
 * profiler over every benchmark that has a budget in {@code bench/alloc-budgets.properties}, comparing each
 * one's bytes allocated per operation ({@code gc.alloc.rate.norm}) with its budget. Bytes per operation do not
 * depend on machine load, so they can be asserted; times do, so they are printed and never compared.
 *
 * <p>Budget file: {@code <benchmark>[<param>=<value>,...] = <max bytes per op>}, the benchmark named relative
 * to {@code dev.outrider.bench} and its parameters (if any) in JMH's order (sorted by name), {@code =} inside
 * a key escaped as {@code \=} (a {@link Properties} file). A row passes while its measured figure is less
 * than budget + {@value #TOLERANCE} bytes: a benchmark that allocates nothing shows a fraction of a byte from
 * JMH's own bookkeeping spread over the ops, and any object allocated on every op is at least 16 bytes.
 *
 * <p>Every parameter combination of a guarded method runs; one without a budget fails the guard (so a new
 * {@code @Param} value needs a budget), and so does a budget whose benchmark did not run (renamed or removed).
 *
 * <p>CI runs it as {@code AllocationGuardTest} (bench's test phase, so {@code ./mvnw verify} runs it and
 * {@code -DskipTests} skips it); {@link #main} runs it by hand against the shaded jar. Exit status of
 * {@link #main}: 0 when every benchmark is within its budget, 1 when one is over or unmatched, 2 on a usage
 * or run error. Settings: one fork per benchmark (JMH warns that profilers are unreliable without forking,
 * and each benchmark gets a JIT profile of its own, as in a normal run), one 500 ms warm-up iteration and two
 * 500 ms measured ones; {@code -Dguard.warmup=ms}, {@code -Dguard.iteration=ms} and {@code -Dguard.iterations=n}
 * change them. A benchmark over its budget runs once more with {@value #RETRY_WARMUP_ITERATIONS} warm-up
 * iterations and the lower figure counts: on a busy machine a short warm-up can leave code interpreted (the
 * JIT starved of CPU), which allocates what compiled code does not; noise only ever adds bytes, so a real
 * regression fails both runs.
 */
public final class AllocationGuard {
    static final String PACKAGE = "dev.outrider.bench.";
    static final String ALLOC_NORM = "gc.alloc.rate.norm";
    /**
     * Bytes per op tolerated above a budget: JMH's own per-iteration allocation spread over the ops (up to
     * ~0.5 B/op for a 30 µs op on a busy machine). Half the smallest object the forks can allocate (16 bytes
     * with their default object headers), so one more object per op always exceeds it.
     */
    static final double TOLERANCE = 8;
    static final int WARMUP_ITERATIONS = 1;
    /** The warm-up of the second run of a benchmark found over its budget. */
    static final int RETRY_WARMUP_ITERATIONS = 6;

    private AllocationGuard() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: AllocationGuard <alloc-budgets.properties>");
            System.exit(2);
        }
        Report report;
        try {
            report = run(Path.of(args[0]));
        } catch (RunnerException e) {
            System.err.println("allocation guard: the JMH run failed: " + e.getMessage());
            e.printStackTrace();
            System.exit(2);
            return;
        }
        System.out.print(report.text());
        System.exit(report.passed() ? 0 : 1);
    }

    /** Runs every budgeted benchmark and compares; {@link Report#text} is the table and a summary line. */
    public static Report run(Path budgetFile) throws IOException, RunnerException {
        Map<String, Long> budgets = readBudgets(budgetFile);
        long started = System.nanoTime();
        Collection<RunResult> results = new Runner(options(budgets.keySet(), WARMUP_ITERATIONS)).run();
        List<Row> rows = compare(budgets, results);
        List<String> retry = rows.stream().filter(r -> r.budget() != null && !Double.isNaN(r.measured()) && !r.ok())
                .map(Row::key).toList();
        if (!retry.isEmpty()) {
            // Noise only ever adds bytes: code still interpreted because a busy machine starved the JIT during
            // the short warm-up allocates what compiled code does not, and so does JMH's per-iteration overhead
            // spread over few ops. A real regression allocates in both runs, so the lower figure decides.
            Collection<RunResult> again = new Runner(options(retry, RETRY_WARMUP_ITERATIONS)).run();
            rows = lowerOf(rows, compare(budgets, again));
        }
        long failed = rows.stream().filter(r -> !r.ok()).count();
        String text = table(rows) + String.format(Locale.ROOT,
                "allocation guard: %d benchmarks, %d over budget or unmatched, %d re-run with a longer warm-up (%s), "
                        + "%.0f s%n", rows.size(), failed, retry.size(), budgetFile,
                (System.nanoTime() - started) / 1e9);
        return new Report(rows, failed == 0, text);
    }

    /** {@code first}, with each row that {@code again} measured too replaced by the lower of the two. */
    static List<Row> lowerOf(List<Row> first, List<Row> again) {
        Map<String, Row> retried = new TreeMap<>();
        for (Row r : again) {
            if (!Double.isNaN(r.measured())) {
                retried.put(r.key(), r);
            }
        }
        List<Row> rows = new ArrayList<>();
        for (Row r : first) {
            Row a = retried.get(r.key());
            if (a != null && !r.ok()) {
                Row lower = a.measured() < r.measured() ? a : r;
                rows.add(new Row(r.key(), r.budget(), lower.measured(), lower.time(), lower.timeUnit(),
                        String.format(Locale.ROOT, "re-run: %.1f then %.1f", r.measured(), a.measured())));
            } else {
                rows.add(r);
            }
        }
        return rows;
    }

    /** The outcome of one guard run. */
    public record Report(List<Row> rows, boolean passed, String text) {
    }

    /** Budgets by key, sorted by key; a value that is not a whole number of bytes fails here, naming the key. */
    static Map<String, Long> readBudgets(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        Map<String, Long> budgets = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            String value = p.getProperty(key).trim();
            try {
                long bytes = Long.parseLong(value);
                if (bytes < 0) {
                    throw new NumberFormatException();
                }
                budgets.put(key, bytes);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(file + ": " + key + ": budget must be a whole number of bytes, got '"
                        + value + "'");
            }
        }
        if (budgets.isEmpty()) {
            throw new IllegalArgumentException(file + ": no budgets");
        }
        return budgets;
    }

    private static org.openjdk.jmh.runner.options.Options options(Collection<String> keys, int warmupIterations) {
        ChainedOptionsBuilder b = new OptionsBuilder()
                .forks(1)
                .warmupIterations(warmupIterations)
                .warmupTime(TimeValue.milliseconds(Long.getLong("guard.warmup", 500)))
                .measurementIterations(Integer.getInteger("guard.iterations", 2))
                .measurementTime(TimeValue.milliseconds(Long.getLong("guard.iteration", 500)))
                .addProfiler(GCProfiler.class)
                // The forks' JVM options are fixed here rather than inherited from the host JVM (JMH's default),
                // so a test runner's flags (Netty's PARANOID leak detection records every buffer access) do
                // not change what is measured.
                .jvmArgs("-Xms512m", "-Xmx512m", "--enable-native-access=ALL-UNNAMED")
                .shouldFailOnError(true)
                .verbosity(VerboseMode.SILENT);
        for (String method : methods(keys)) {
            b.include("^" + Pattern.quote(PACKAGE + method) + "$");
        }
        return b.build();
    }

    /** The benchmark methods named by the budget keys (a key without its parameters). */
    static Set<String> methods(Collection<String> keys) {
        Set<String> methods = new LinkedHashSet<>();
        for (String key : keys) {
            int bracket = key.indexOf('[');
            methods.add(bracket < 0 ? key : key.substring(0, bracket));
        }
        return methods;
    }

    /** The budget key of a run: benchmark relative to the package, then its parameters as JMH sorts them. */
    static String key(BenchmarkParams params) {
        String name = params.getBenchmark();
        if (name.startsWith(PACKAGE)) {
            name = name.substring(PACKAGE.length());
        }
        Collection<String> keys = params.getParamsKeys();
        if (keys.isEmpty()) {
            return name;
        }
        StringBuilder sb = new StringBuilder(name).append('[');
        String sep = "";
        for (String k : keys) {
            sb.append(sep).append(k).append('=').append(params.getParam(k));
            sep = ",";
        }
        return sb.append(']').toString();
    }

    static List<Row> compare(Map<String, Long> budgets, Collection<RunResult> results) {
        List<Row> rows = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (RunResult r : results) {
            String key = key(r.getParams());
            seen.add(key);
            Result<?> norm = r.getSecondaryResults().get(ALLOC_NORM);
            double measured = norm == null ? Double.NaN : norm.getScore();
            Result<?> primary = r.getPrimaryResult();
            rows.add(new Row(key, budgets.get(key), measured, primary.getScore(), primary.getScoreUnit(), ""));
        }
        for (String key : budgets.keySet()) {
            if (!seen.contains(key)) {
                rows.add(new Row(key, budgets.get(key), Double.NaN, Double.NaN, "", ""));
            }
        }
        rows.sort((a, b) -> a.key().compareTo(b.key()));
        return rows;
    }

    static String table(List<Row> rows) {
        int width = "benchmark".length();
        for (Row r : rows) {
            width = Math.max(width, r.key().length());
        }
        StringBuilder sb = new StringBuilder();
        String format = "%-" + width + "s  %10s  %12s  %-9s  %s%n";
        sb.append(String.format(Locale.ROOT, format, "benchmark", "budget B/op", "measured B/op", "result",
                "time (reported, not checked)"));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, format, r.key(),
                    r.budget() == null ? "-" : r.budget().toString(),
                    Double.isNaN(r.measured()) ? "-" : String.format(Locale.ROOT, "%.1f", r.measured()),
                    r.verdict(),
                    (Double.isNaN(r.time()) ? "" : String.format(Locale.ROOT, "%.1f %s", r.time(), r.timeUnit()))
                            + (r.note().isEmpty() ? "" : "  (" + r.note() + ")")));
        }
        return sb.toString();
    }

    /** One benchmark's outcome; {@code budget} null when the file has none, {@code measured} NaN when not run. */
    public record Row(String key, Long budget, double measured, double time, String timeUnit, String note) {
        boolean ok() {
            return budget != null && !Double.isNaN(measured) && measured < budget + TOLERANCE;
        }

        String verdict() {
            if (budget == null) {
                return "NO BUDGET";
            }
            if (Double.isNaN(measured)) {
                return "NOT RUN";
            }
            return ok() ? "ok" : "OVER";
        }
    }
}
