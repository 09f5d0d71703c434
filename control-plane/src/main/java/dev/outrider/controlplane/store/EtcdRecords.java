package dev.outrider.controlplane.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@link EtcdStore}'s records ({@link Store#isShared}): record {@code NAME} of space {@code SPACE} is the etcd key
 * {@code PREFIX/records/SPACE/NAME}, outside the watched resource keys. Reads and writes of several records go in
 * transactions of at most {@link #TXN_OPS} operations; a record's revision is the etcd mod_revision of its key.
 */
final class EtcdRecords {
    /** Operations per transaction: below etcd's default {@code --max-txn-ops} (128). */
    static final int TXN_OPS = 100;

    private final EtcdStore store;
    private final KV kv;
    private final String prefix;

    EtcdRecords(EtcdStore store, KV kv, String prefix) {
        this.store = store;
        this.kv = kv;
        this.prefix = prefix;
    }

    Map<String, Store.Record> get(String space, Collection<String> names) {
        String under = under(space);
        Map<String, Store.Record> found = new HashMap<>();
        for (List<String> chunk : chunks(names)) {
            Op[] gets = chunk.stream().map(n -> Op.get(key(under, n), GetOption.DEFAULT)).toArray(Op[]::new);
            TxnResponse answer = store.await("read " + chunk.size() + " record(s) of " + space,
                    kv.txn().Then(gets).commit());
            collect(answer, under, found);
        }
        return found;
    }

    Map<String, byte[]> list(String space) {
        String under = under(space);
        Map<String, byte[]> found = new TreeMap<>();
        store.forEachUnder(under, entry -> found.put(name(entry, under), entry.getValue().getBytes()));
        return found;
    }

    void put(String space, Map<String, byte[]> records) {
        String under = under(space);
        List<Map.Entry<String, byte[]>> all = new ArrayList<>(records.entrySet());
        for (int i = 0; i < all.size(); i += TXN_OPS) {
            Op[] puts = all.subList(i, Math.min(all.size(), i + TXN_OPS)).stream()
                    .map(e -> Op.put(key(under, e.getKey()), ByteSequence.from(e.getValue()), PutOption.DEFAULT))
                    .toArray(Op[]::new);
            store.awaitWrite("write " + puts.length + " record(s) of " + space, kv.txn().Then(puts).commit());
        }
    }

    /** One transaction per group: if every key is at its expected mod_revision (0: absent), the puts. */
    Map<String, Long> putIf(String space, Map<String, byte[]> records, Map<String, Long> expected) {
        String under = under(space);
        for (String name : records.keySet()) {
            if (!expected.containsKey(name)) {
                throw new IllegalArgumentException("record " + name + ": no expected revision");
            }
        }
        Map<String, Long> written = new HashMap<>();
        List<Map.Entry<String, byte[]>> all = new ArrayList<>(records.entrySet());
        for (int i = 0; i < all.size(); i += TXN_OPS) {
            List<Map.Entry<String, byte[]>> group = all.subList(i, Math.min(all.size(), i + TXN_OPS));
            Cmp[] unchanged = group.stream().map(e -> new Cmp(key(under, e.getKey()), Cmp.Op.EQUAL,
                    CmpTarget.modRevision(expected.get(e.getKey())))).toArray(Cmp[]::new);
            Op[] puts = group.stream()
                    .map(e -> Op.put(key(under, e.getKey()), ByteSequence.from(e.getValue()), PutOption.DEFAULT))
                    .toArray(Op[]::new);
            TxnResponse answer = store.awaitWrite("write " + puts.length + " record(s) of " + space,
                    kv.txn().If(unchanged).Then(puts).commit());
            if (answer.isSucceeded()) {
                long revision = answer.getHeader().getRevision();
                group.forEach(e -> written.put(e.getKey(), revision));
            }
        }
        return written;
    }

    void delete(String space, Collection<String> names) {
        String under = under(space);
        for (List<String> chunk : chunks(names)) {
            Op[] deletes = chunk.stream().map(n -> Op.delete(key(under, n), DeleteOption.DEFAULT))
                    .toArray(Op[]::new);
            store.awaitWrite("delete " + chunk.size() + " record(s) of " + space, kv.txn().Then(deletes).commit());
        }
    }

    private static void collect(TxnResponse answer, String under, Map<String, Store.Record> into) {
        for (GetResponse get : answer.getGetResponses()) {
            for (KeyValue entry : get.getKvs()) {
                into.put(name(entry, under), new Store.Record(entry.getValue().getBytes(), entry.getModRevision()));
            }
        }
    }

    private static String name(KeyValue entry, String under) {
        return entry.getKey().toString(StandardCharsets.UTF_8).substring(under.length());
    }

    private String under(String space) {
        if (space == null || !EtcdStore.SIMPLE_NAME.matcher(space).matches()) {
            throw new IllegalArgumentException("record space must be a simple name: " + space);
        }
        return prefix + "records/" + space + "/";
    }

    private static ByteSequence key(String under, String name) {
        if (name == null || name.isEmpty() || name.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
            throw new IllegalArgumentException("record name must be non-empty printable text: " + name);
        }
        return ByteSequence.from(under + name, StandardCharsets.UTF_8);
    }

    private static List<List<String>> chunks(Collection<String> names) {
        List<String> all = List.copyOf(names);
        List<List<String>> chunks = new ArrayList<>();
        for (int i = 0; i < all.size(); i += TXN_OPS) {
            chunks.add(all.subList(i, Math.min(all.size(), i + TXN_OPS)));
        }
        return chunks;
    }
}
