package dev.outrider.controlplane.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@link EtcdStore}'s audit trail, shared by every replica: record at time T is the etcd key
 * {@code PREFIX/audit/MMMMMMMMMMMMMMMMMMM-RRRRRRRRRRRR} (T in microseconds since the epoch, 19 digits, then 48
 * random bits in hex, so two replicas never write one key), its value the record's bytes. Keys sort by time, so
 * "since" is a range read and retention two range deletes:
 * <pre>
 *   append:  txn{ put(record); delete [audit/, audit/(T - maxAge)) }      one round trip, age bound kept
 *            count [audit/, end)  → n; when n &gt; max: the (n - max)th key k, delete [audit/, k]
 *   trim:    the same without the put (at start-up and once a minute, so the age bound holds without writes)
 * </pre>
 * Two replicas trimming at once may each delete the oldest records: at worst a few more than needed, never the bound
 * broken for long (the next append trims again). Outside the watched resource keys.
 */
final class EtcdAudit {
    private final EtcdStore store;
    private final KV kv;
    private final String under;

    EtcdAudit(EtcdStore store, KV kv, String prefix) {
        this.store = store;
        this.kv = kv;
        this.under = prefix + "audit/";
    }

    void append(Instant time, byte[] record, AuditRetention retention) {
        for (byte b : record) {
            if (b == '\n') {
                throw new IllegalArgumentException("an audit record is one line");
            }
        }
        byte[] random = new byte[6];
        ThreadLocalRandom.current().nextBytes(random);
        ByteSequence key = bytes(under + stamp(time) + "-" + HexFormat.of().formatHex(random));
        store.awaitWrite("append an audit record", kv.txn().Then(
                Op.put(key, ByteSequence.from(record), PutOption.DEFAULT), dropOlderThan(time, retention)).commit());
        dropBeyondCount(retention);
    }

    void trim(Instant now, AuditRetention retention) {
        store.awaitWrite("drop audit records past retention", kv.txn().Then(dropOlderThan(now, retention)).commit());
        dropBeyondCount(retention);
    }

    private Op dropOlderThan(Instant now, AuditRetention retention) {
        ByteSequence tooOld = bytes(under + stamp(now.minus(retention.maxAge())));
        return Op.delete(bytes(under), DeleteOption.builder().withRange(tooOld).build());
    }

    private void dropBeyondCount(AuditRetention retention) {
        ByteSequence start = bytes(under);
        ByteSequence end = end();
        long count = store.await("count the audit records",
                kv.get(start, GetOption.builder().withRange(end).withCountOnly(true).build())).getCount();
        long excess = count - retention.maxRecords();
        if (excess <= 0) {
            return;
        }
        List<KeyValue> oldest = store.await("find the oldest audit records", kv.get(start, GetOption.builder()
                .withRange(end).withKeysOnly(true).withLimit(excess).build())).getKvs();
        if (!oldest.isEmpty()) {
            byte[] last = oldest.getLast().getKey().getBytes();
            byte[] after = Arrays.copyOf(last, last.length + 1);
            store.awaitWrite("drop audit records past retention",
                    kv.delete(start, DeleteOption.builder().withRange(ByteSequence.from(after)).build()));
        }
    }

    List<byte[]> list(Instant sinceOrNull) {
        List<byte[]> out = new ArrayList<>();
        ByteSequence from = bytes(sinceOrNull == null ? under : under + stamp(sinceOrNull));
        store.forEachBetween(from, end(), entry -> out.add(entry.getValue().getBytes()));
        return out;
    }

    /** Microseconds since the epoch, 19 digits (times before 1970 are 0: not a time the control plane records). */
    private static String stamp(Instant time) {
        long micros = Math.max(0, ChronoUnit.MICROS.between(Instant.EPOCH, time));
        return String.format("%019d", micros);
    }

    private ByteSequence end() {
        byte[] end = under.getBytes(StandardCharsets.UTF_8);
        end[end.length - 1]++; // ends in '/'
        return ByteSequence.from(end);
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }
}
