package dev.outrider.controlplane.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.controlplane.server.Json;
import dev.outrider.controlplane.store.AuditRetention;
import dev.outrider.controlplane.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The audit trail of configuration changes (docs/control-plane.md "Audit trail"): each {@link AuditRecord} goes,
 * as one JSON line, to its own stream ({@code --audit-log}: a file, fsynced, or standard output) and to the store
 * ({@link Store#appendAudit}, trimmed to the {@link AuditRetention}), where every replica sharing the store lists it
 * ({@code GET /v1/audit}).
 *
 * <p>A record is written before the request is answered, so an acknowledged change has its record. When writing
 * fails (the disk, etcd), the change stands and the failure is logged at ERROR (the record itself is in that log
 * line: it holds no secret): an audit trail that cannot be written does not undo or refuse configuration.
 *
 * <p>Blocking: called on the worker executor and the scheduler, never on an event loop. Thread-safe.
 */
public final class AuditTrail implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AuditTrail.class);

    private final Store store;
    private final AuditLogStream stream;
    private final AuditRetention retention;
    private final Clock clock;

    private AuditTrail(Store store, AuditLogStream stream, AuditRetention retention, Clock clock) {
        this.store = store;
        this.stream = stream;
        this.retention = retention;
        this.clock = clock;
    }

    /**
     * Opens the stream and trims the store's trail to {@code retention}.
     *
     * @param logFileOrNull the {@code --audit-log} file (created 0600 when missing, appended to), or null for
     *                      standard output
     */
    public static AuditTrail open(Store store, Path logFileOrNull, AuditRetention retention, Clock clock)
            throws IOException {
        requireNonNull(store, "store");
        requireNonNull(retention, "retention");
        requireNonNull(clock, "clock");
        AuditTrail trail = new AuditTrail(store, AuditLogStream.open(logFileOrNull), retention, clock);
        trail.trim();
        return trail;
    }

    /** The time a record made now carries: UTC, cut to microseconds (what the etcd store orders by). */
    String now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS).toString();
    }

    /** Writes {@code record} to the stream and the store; failures are logged, never thrown. */
    void record(AuditRecord record) {
        byte[] json;
        try {
            json = Json.MAPPER.writeValueAsBytes(record);
        } catch (JsonProcessingException e) {
            log.error("cannot write an audit record as JSON: {}", record, e);
            return;
        }
        byte[] line = new byte[json.length + 1];
        System.arraycopy(json, 0, line, 0, json.length);
        line[json.length] = '\n';
        try {
            stream.append(line);
        } catch (IOException | RuntimeException e) {
            log.error("audit record not written to {} ({}): {}", stream, e, new String(json,
                    java.nio.charset.StandardCharsets.UTF_8));
        }
        try {
            store.appendAudit(Instant.parse(record.time()), json, retention);
        } catch (RuntimeException e) {
            log.error("audit record not written to the store ({}): {}", e, new String(json,
                    java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    /** Drops what is past retention from the store's trail (at start-up, and once a minute on one replica). */
    public void trim() {
        store.trimAudit(clock.instant(), retention);
    }

    /**
     * The newest {@code limit} records recorded at or after {@code sinceOrNull} and, when {@code namespaceOrNull} is
     * given, about that namespace; oldest first.
     *
     * @param omitted how many older records matched but were left out by the limit
     */
    public record Page(List<JsonNode> items, int omitted) {
        public Page {
            items = List.copyOf(items);
        }
    }

    public Page list(Instant sinceOrNull, String namespaceOrNull, int limit) {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive: " + limit);
        }
        List<JsonNode> matching = new ArrayList<>();
        int unreadable = 0;
        for (byte[] stored : store.listAudit(sinceOrNull)) {
            JsonNode record;
            try {
                record = Json.MAPPER.readTree(stored);
            } catch (IOException e) {
                unreadable++;
                continue;
            }
            if (namespaceOrNull == null || namespaceOrNull.equals(record.path("namespace").asText(null))) {
                matching.add(record);
            }
        }
        if (unreadable > 0) {
            log.warn("{} audit record(s) in the store are not JSON; left out of the listing", unreadable);
        }
        int from = Math.max(0, matching.size() - limit);
        return new Page(matching.subList(from, matching.size()), from);
    }

    public AuditRetention retention() {
        return retention;
    }

    @Override
    public void close() throws IOException {
        stream.close();
    }

    @Override
    public String toString() {
        return "AuditTrail[" + stream + ", " + store + ", keeps " + retention.maxRecords() + "]";
    }
}
