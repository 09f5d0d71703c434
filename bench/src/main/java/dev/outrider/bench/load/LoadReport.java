package dev.outrider.bench.load;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.HdrHistogram.Histogram;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The outcome of one run: throughput, latency percentiles (milliseconds, from HdrHistogram in nanoseconds)
 * and errors, as text for people and as one JSON object for scripts.
 *
 * <p>{@code errors} = responses outside 2xx + requests lost with a connection + requests still unanswered
 * after the drain timeout. {@code dropped} (open loop) = requests never sent because the outstanding cap
 * was reached; any of them means the target could not keep up with the rate.
 */
record LoadReport(String label, String mode, String protocol, String url, int connections, int streams,
                  double targetRate, double seconds, long requests, long requestsWithWarmup, long non2xx, long ioErrors, long dropped,
                  int unfinished, Histogram latency, String transport, int threads) {
    private static final ObjectMapper JSON = new ObjectMapper();

    long errors() {
        return non2xx + ioErrors + unfinished;
    }

    double rps() {
        return requests / seconds;
    }

    private double ms(double percentile) {
        return latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(percentile) / 1e6;
    }

    String json() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", label);
        m.put("mode", mode);
        m.put("protocol", protocol);
        m.put("url", url);
        m.put("connections", connections);
        m.put("streams", streams);
        m.put("target_rps", targetRate);
        m.put("seconds", round(seconds));
        m.put("requests", requests);
        m.put("requests_with_warmup", requestsWithWarmup);
        m.put("rps", round(rps()));
        m.put("p50_ms", round(ms(50)));
        m.put("p90_ms", round(ms(90)));
        m.put("p99_ms", round(ms(99)));
        m.put("p999_ms", round(ms(99.9)));
        m.put("max_ms", round(latency.getMaxValue() / 1e6));
        m.put("mean_ms", round(latency.getTotalCount() == 0 ? 0 : latency.getMean() / 1e6));
        m.put("errors", errors());
        m.put("non2xx", non2xx);
        m.put("io_errors", ioErrors);
        m.put("unfinished", unfinished);
        m.put("dropped", dropped);
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    String text() {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%s loop, %s, %d connections%s, %s, %d event loops (%s)%n", mode, protocol,
                connections, "h2c".equals(protocol) ? " x " + streams + " streams" : "", url, threads, transport));
        if ("open".equals(mode)) {
            b.append(String.format(Locale.ROOT, "  target %.0f req/s; latency from the intended start (corrected for coordinated omission)%n", targetRate));
        }
        b.append(String.format(Locale.ROOT, "  %d requests in %.2f s = %.0f req/s%n", requests, seconds, rps()));
        b.append(String.format(Locale.ROOT, "  latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f%n",
                ms(50), ms(90), ms(99), ms(99.9), latency.getMaxValue() / 1e6));
        b.append(String.format(Locale.ROOT, "  errors %d (non-2xx %d, connection %d, unanswered %d); dropped at the outstanding cap %d%n",
                errors(), non2xx, ioErrors, unfinished, dropped));
        return b.toString();
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
