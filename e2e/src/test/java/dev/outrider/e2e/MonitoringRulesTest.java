package dev.outrider.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.outrider.core.testing.DebianPackages;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What ships in docker/monitoring/: the Prometheus alerting rules are valid ({@code promtool check rules}) and do
 * what their unit tests say ({@code promtool test rules}, Debian's prometheus package, installed when missing); every
 * query of the Grafana dashboard is valid PromQL; every metric the rules and the dashboard read is one the sidecar
 * registers (so a renamed meter breaks this test, not an operator's dashboard).
 */
class MonitoringRulesTest {
    private static final Path MONITORING = ImageHome.ROOT.resolve("docker/monitoring");
    private static final Pattern METRIC = Pattern.compile("\\boutrider_[a-z0-9_]+");
    private static String promtool;

    @BeforeAll
    static void promtool() throws Exception {
        promtool = DebianPackages.command("promtool", "prometheus");
    }

    private static String run(Path dir, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(promtool));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("promtool finished").isTrue();
        assertThat(p.exitValue()).as("promtool %s:%n%s", String.join(" ", args), out).isZero();
        return out;
    }

    @Test
    void theAlertRulesAreValidAndPassTheirUnitTests() throws Exception {
        assertThat(run(MONITORING, "check", "rules", "outrider-alerts.yaml")).contains("SUCCESS");
        assertThat(run(MONITORING, "test", "rules", "outrider-alerts.test.yaml")).contains("SUCCESS");
    }

    @Test
    void everyDashboardQueryIsValidPromql(@TempDir Path dir) throws Exception {
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        List<String> exprs = dashboardQueries();
        assertThat(exprs).hasSizeGreaterThan(10);
        for (int i = 0; i < exprs.size(); i++) {
            String expr = exprs.get(i).replace("$__rate_interval", "5m").replace("$service", ".*");
            rules.append("      - record: dashboard:query_").append(i).append("\n        expr: '")
                    .append(expr.replace("'", "''")).append("'\n");
        }
        Files.writeString(dir.resolve("dashboard-queries.yaml"), rules);
        assertThat(run(dir, "check", "rules", "dashboard-queries.yaml")).contains("SUCCESS: " + exprs.size() + " rules");
    }

    @Test
    void everyMetricReadIsOneTheSidecarRegisters() throws Exception {
        Set<String> used = new TreeSet<>();
        for (String text : List.of(Files.readString(MONITORING.resolve("outrider-alerts.yaml")),
                String.join("\n", dashboardQueries()))) {
            Matcher m = METRIC.matcher(text);
            while (m.find()) {
                used.add(m.group());
            }
        }
        assertThat(used).hasSizeGreaterThan(10);
        String sources;
        try (Stream<Path> files = Files.walk(ImageHome.ROOT.resolve("proxy/src/main/java"))) {
            StringBuilder all = new StringBuilder();
            for (Path f : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                all.append(Files.readString(f));
            }
            sources = all.toString();
        }
        for (String name : used) {
            assertThat(registeredNames(name)).as("%s: a meter the sidecar registers", name)
                    .anyMatch(n -> sources.contains("\"" + n + "\""));
        }
    }

    /** The names in the source that Prometheus shows as {@code exposed} (Micrometer: dots or underscores, suffixes). */
    private static List<String> registeredNames(String exposed) {
        List<String> names = new ArrayList<>();
        String base = exposed.replaceAll("_(bucket|count|sum)$", "");
        for (String b : List.of(base, base.replaceAll("_total$", ""), base.replaceAll("_seconds$", ""),
                base.replaceAll("_bytes_total$", "_bytes").replaceAll("_bytes$", ""))) {
            names.add(b);
            names.add(b.replace('_', '.'));
        }
        return names;
    }

    private static List<String> dashboardQueries() throws IOException {
        JsonNode dashboard = JsonMapper.builder().build().readTree(MONITORING.resolve("outrider-dashboard.json").toFile());
        List<String> exprs = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                exprs.add(target.path("expr").asText());
            }
        }
        return exprs;
    }
}
