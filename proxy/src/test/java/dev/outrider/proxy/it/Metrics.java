package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a sidecar's meters the way an operator does: a scrape of the admin server's {@code /metrics}
 * (Prometheus text exposition), parsed line by line.
 */
final class Metrics {
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private Metrics() {
    }

    /**
     * The sum of every sample named {@code name} whose labels include {@code labels} (alternating names and
     * values): the exact series when all its labels are given, a total over the rest otherwise; 0 when none.
     */
    static double sum(Sidecar sidecar, String name, String... labels) {
        Map<String, String> wanted = new HashMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            wanted.put(labels[i], labels[i + 1]);
        }
        double total = 0;
        for (String line : scrape(sidecar).split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            String sampleName = line.substring(0, brace >= 0 && brace < space ? brace : line.indexOf(' '));
            if (!sampleName.equals(name)) {
                continue;
            }
            Map<String, String> have = new HashMap<>();
            if (brace >= 0 && brace < space) {
                Matcher m = LABEL.matcher(line.substring(brace, line.lastIndexOf('}') + 1));
                while (m.find()) {
                    have.put(m.group(1), m.group(2));
                }
            }
            if (have.entrySet().containsAll(wanted.entrySet())) {
                total += Double.parseDouble(line.substring(space + 1).strip());
            }
        }
        return total;
    }

    /** {@code outrider_tls_handshake_failures_total{direction, reason}}. */
    static double handshakeFailures(Sidecar sidecar, String direction, String reason) {
        return sum(sidecar, "outrider_tls_handshake_failures_total", "direction", direction, "reason", reason);
    }

    /** {@code outrider_tls_handshake_failures_total{direction}}, all reasons. */
    static double handshakeFailures(Sidecar sidecar, String direction) {
        return sum(sidecar, "outrider_tls_handshake_failures_total", "direction", direction);
    }

    static double reloads(Sidecar sidecar) {
        return sum(sidecar, "outrider_tls_reloads_total");
    }

    static double reloadFailures(Sidecar sidecar, String reason) {
        return sum(sidecar, "outrider_tls_reload_failures_total", "reason", reason);
    }

    static double reloadFailures(Sidecar sidecar) {
        return sum(sidecar, "outrider_tls_reload_failures_total");
    }

    static String scrape(Sidecar sidecar) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:"
                    + sidecar.adminAddress().getPort() + "/metrics").toURL().openConnection();
            c.setConnectTimeout(5_000);
            c.setReadTimeout(5_000);
            try (InputStream in = c.getInputStream()) {
                if (c.getResponseCode() != 200) {
                    throw new AssertionError("/metrics answered " + c.getResponseCode());
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } finally {
                c.disconnect();
            }
        } catch (IOException e) {
            throw new AssertionError("cannot scrape /metrics: " + e, e);
        }
    }
}
