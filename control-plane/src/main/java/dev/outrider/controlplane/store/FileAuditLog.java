package dev.outrider.controlplane.store;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.core.files.AppendOnlyFile;
import dev.outrider.core.files.AtomicFiles;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

import static java.util.Objects.requireNonNull;

/**
 * {@link FileStore}'s audit trail: {@code root/audit.jsonl}, one line per record,
 * {@code {"time":"2026-12-07T10:00:00.123456Z","record":{...}}}, appended and fsynced ({@link AppendOnlyFile}), and
 * held in memory (at most {@link AuditRetention#maxRecords()} of them) for listing.
 *
 * <p>Retention: records past the bounds leave memory at once; the file keeps them as dead lines until there are more
 * than a tenth of the maximum count of those, then it is rewritten with the live ones (atomically: {@link
 * AtomicFiles}), so the rewrite costs little per append. Opening reads every line, dead ones too: the bounds hold
 * again after the first append or trim. A crash during an append leaves a last line without its
 * newline: it was never acknowledged, and opening cuts it off. Any other line that cannot be read fails the open,
 * naming the file and line.
 *
 * <p>Thread-safe: one lock, separate from the resources' (an audit append never waits for a resource write).
 */
final class FileAuditLog implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FileAuditLog.class);
    static final String FILE = "audit.jsonl";

    private record Entry(Instant time, byte[] record) {
    }

    private final Path file;
    private final ObjectMapper json;
    private final ReentrantLock lock = new ReentrantLock();
    // Guarded by lock.
    private final ArrayDeque<Entry> entries;
    private AppendOnlyFile out;
    /** Lines in the file that are no longer in {@link #entries}. */
    private long dead;

    private FileAuditLog(Path file, ObjectMapper json, ArrayDeque<Entry> entries, AppendOnlyFile out) {
        this.file = file;
        this.json = json;
        this.entries = entries;
        this.out = out;
    }

    /** Reads {@code root/audit.jsonl} (when present), cutting off an interrupted last append. */
    static FileAuditLog open(Path root, ObjectMapper json) throws IOException {
        Path file = root.resolve(FILE);
        ArrayDeque<Entry> entries = new ArrayDeque<>();
        if (Files.exists(file)) {
            byte[] content = Files.readAllBytes(file);
            int complete = AppendOnlyFile.completeLength(content);
            if (complete < content.length) {
                AppendOnlyFile.truncate(file, complete);
            }
            String text = new String(content, 0, complete, StandardCharsets.UTF_8);
            int line = 0;
            for (String row : text.split("\n")) {
                line++;
                if (!row.isEmpty()) {
                    entries.add(parse(json, file, line, row));
                }
            }
        }
        return new FileAuditLog(file, json, entries, AppendOnlyFile.open(file));
    }

    private static Entry parse(ObjectMapper json, Path file, int line, String row) throws IOException {
        try {
            JsonNode node = json.readTree(row);
            Instant time = Instant.parse(node.path("time").asText());
            JsonNode record = node.get("record");
            if (record == null || !record.isObject()) {
                throw new IOException("no record object");
            }
            return new Entry(time, json.writeValueAsBytes(record));
        } catch (IOException | DateTimeException e) {
            throw new IOException(file + ":" + line + ": not an audit record (" + e.getMessage() + ")", e);
        }
    }

    void append(Instant time, byte[] record, AuditRetention retention) {
        requireNonNull(time, "time");
        requireNonNull(record, "record");
        requireNonNull(retention, "retention");
        for (byte b : record) {
            if (b == '\n') {
                throw new IllegalArgumentException("an audit record is one line");
            }
        }
        lock.lock();
        try {
            try {
                out.append(line(time, record));
            } catch (IOException e) {
                throw new UncheckedIOException("appending to " + file, e);
            }
            entries.add(new Entry(time, record));
            drop(time, retention);
        } finally {
            lock.unlock();
        }
    }

    void trim(Instant now, AuditRetention retention) {
        requireNonNull(now, "now");
        requireNonNull(retention, "retention");
        lock.lock();
        try {
            drop(now, retention);
        } finally {
            lock.unlock();
        }
    }

    /** Under lock: the records past {@code retention} leave memory; the file is rewritten when enough are dead. */
    private void drop(Instant now, AuditRetention retention) {
        Instant oldest = now.minus(retention.maxAge());
        while (!entries.isEmpty() && (entries.size() > retention.maxRecords()
                || entries.peekFirst().time().isBefore(oldest))) {
            entries.removeFirst();
            dead++;
        }
        if (dead > retention.maxRecords() / 10) {
            rewrite();
        }
    }

    List<byte[]> list(Instant sinceOrNull) {
        lock.lock();
        try {
            List<byte[]> out = new ArrayList<>();
            for (Entry e : entries) {
                if (sinceOrNull == null || !e.time().isBefore(sinceOrNull)) {
                    out.add(e.record());
                }
            }
            return out;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The file with the live records only, replacing it atomically; appends go on to the new file. A failure is
     * logged and the rewrite tried again at the next append: the record just appended is durable either way.
     */
    private void rewrite() {
        ByteArrayOutputStream content = new ByteArrayOutputStream();
        for (Entry e : entries) {
            content.writeBytes(line(e.time(), e.record()));
        }
        try {
            out.close();
            AtomicFiles.write(file, content.toByteArray(), AtomicFiles.OWNER_ONLY);
            out = AppendOnlyFile.open(file);
            dead = 0;
        } catch (IOException e) {
            // The old file (or the new one) is complete either way: reopen whichever is there and go on.
            try {
                out = AppendOnlyFile.open(file);
            } catch (IOException again) {
                e.addSuppressed(again);
            }
            log.error("rewriting {} without the records past retention failed (retried at the next record): {}",
                    file, e.toString());
        }
    }

    private byte[] line(Instant time, byte[] record) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(record.length + 64);
        try (JsonGenerator g = json.getFactory().createGenerator(bytes)) {
            g.writeStartObject();
            g.writeStringField("time", time.toString());
            g.writeFieldName("record");
            g.writeRawValue(new String(record, StandardCharsets.UTF_8));
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write an audit line", e);
        }
        bytes.write('\n');
        return bytes.toByteArray();
    }

    @Override
    public void close() throws IOException {
        lock.lock();
        try {
            out.close();
        } finally {
            lock.unlock();
        }
    }
}
