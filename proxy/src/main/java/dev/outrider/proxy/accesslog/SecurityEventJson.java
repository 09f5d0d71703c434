package dev.outrider.proxy.accesslog;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.outrider.proxy.http.PathNormalizer;

import java.io.IOException;
import java.time.Instant;

import static dev.outrider.proxy.accesslog.AccessLogJson.TIME;
import static dev.outrider.proxy.accesslog.AccessLogJson.writeIfSet;

/**
 * Writes one line of the security event stream: a {@link SecurityEvent}, or the summary of the events the rate
 * limit or a full queue dropped during one interval ({@link DroppedSummary}). Used by the stream's writer thread
 * only. Fields left unknown are left out; every line has {@code time} and {@code event}.
 *
 * <p>Invariant: no header value and no token is written ({@link SecurityEvent} has none) and the path is written
 * normalized, without its query ({@link PathNormalizer}).
 */
final class SecurityEventJson implements JsonLines.Format<SecurityEventJson.Line> {
    /** The {@code event} of a summary line. */
    static final String DROPPED_EVENT = "security_events_dropped";

    /** One line of the stream. */
    sealed interface Line permits SecurityEvent, DroppedSummary {
    }

    /** {@code dropped} events were dropped in the {@code intervalMillis} before {@code epochMillis}. */
    record DroppedSummary(long epochMillis, long dropped, long intervalMillis) implements Line {
    }

    @Override
    public void write(Line line, JsonGenerator g) throws IOException {
        g.writeStartObject();
        switch (line) {
            case SecurityEvent e -> writeEvent(e, g);
            case DroppedSummary s -> {
                g.writeStringField("time", TIME.format(Instant.ofEpochMilli(s.epochMillis())));
                g.writeStringField("event", DROPPED_EVENT);
                g.writeNumberField("dropped", s.dropped());
                g.writeNumberField("interval_ms", s.intervalMillis());
            }
        }
        g.writeEndObject();
    }

    private static void writeEvent(SecurityEvent e, JsonGenerator g) throws IOException {
        g.writeStringField("time", TIME.format(Instant.ofEpochMilli(e.epochMillis())));
        g.writeStringField("event", e.type().tag());
        g.writeStringField("direction", e.direction().tag());
        writeIfSet(g, "peer", e.peer());
        writeIfSet(g, "remote_address", e.remoteAddress());
        writeIfSet(g, "service", e.service());
        writeIfSet(g, "method", e.method());
        writeIfSet(g, "path", e.uri() == null ? null : PathNormalizer.normalize(e.uri()));
        writeIfSet(g, "authority", e.authority());
        writeIfSet(g, "policy", e.policy());
        writeIfSet(g, "rule", e.rule());
        writeIfSet(g, "reason", e.reason());
        writeIfSet(g, "request_id", e.requestId());
        writeIfSet(g, "jwt_issuer", e.jwtIssuer());
        writeIfSet(g, "jwt_kid", e.jwtKeyId());
    }
}
