package dev.outrider.proxy.accesslog;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outrider.proxy.http.PathNormalizer;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/**
 * Writes one {@link AccessLogEntry} as one JSON line. Used by the access log's writer thread only.
 *
 * <p>Invariant: the line holds the normalized path (query removed by {@link PathNormalizer}) and none of the
 * request's headers, so query strings, Authorization, cookies and tokens never reach the log.
 */
final class AccessLogJson implements JsonLines.Format<AccessLogEntry> {
    /** RFC 3339 UTC with milliseconds: the time format of every JSON line the sidecar writes. */
    static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    /** Writes {@code e} as one JSON object ({@link JsonLines} adds the newline). */
    @Override
    public void write(AccessLogEntry e, JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("time", TIME.format(Instant.ofEpochMilli(e.startEpochMillis())));
        g.writeStringField("direction", e.direction().tag());
        g.writeStringField("protocol", e.protocol());
        g.writeStringField("method", e.method());
        g.writeStringField("path", e.uri() == null ? null : PathNormalizer.normalize(e.uri()));
        g.writeNumberField("status", e.status());
        g.writeNumberField("duration_ms",
                BigDecimal.valueOf(e.durationNanos(), 6).setScale(3, RoundingMode.HALF_UP));
        g.writeNumberField("request_bytes", e.requestBytes());
        g.writeNumberField("response_bytes", e.responseBytes());
        g.writeStringField("upstream", e.upstream());
        g.writeStringField("request_id", e.requestId());
        g.writeStringField("service", e.service());
        writeIfSet(g, "trace_id", e.traceId());
        AccessLogEntry.Auth auth = e.auth();
        if (auth != null) {
            writeIfSet(g, "peer", auth.peer());
            writeIfSet(g, "authn", auth.authn());
            writeIfSet(g, "authz", auth.authz());
            writeIfSet(g, "audit", auth.audit());
            writeIfSet(g, "authz_dry_run", auth.dryRun());
            writeIfSet(g, "ratelimit", auth.rateLimit());
        }
        g.writeEndObject();
    }

    static void writeIfSet(JsonGenerator g, String name, String value) throws IOException {
        if (value != null) {
            g.writeStringField(name, value);
        }
    }
}
