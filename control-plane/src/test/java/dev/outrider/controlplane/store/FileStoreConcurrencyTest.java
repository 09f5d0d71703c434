package dev.outrider.controlplane.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

@Timeout(120)
class FileStoreConcurrencyTest {
    private static final int THREADS = 8;
    private static final int WRITES_PER_THREAD = 25;

    @TempDir
    Path root;

    @Test
    void compareAndSetIncrementsOnOneKeyLoseNoUpdate() throws Exception {
        ResourceKey counter = new ResourceKey("Counter", "test", "shared");
        try (FileStore store = FileStore.open(root)) {
            List<Integer> successes = StoreContract.runOnThreads(THREADS, thread -> {
                int done = 0;
                while (done < WRITES_PER_THREAD) {
                    var current = store.get(counter);
                    long value = current.map(r -> Long.parseLong(text(r))).orElse(0L);
                    long expected = current.map(StoredResource::resourceVersion).orElse(Store.MUST_NOT_EXIST);
                    try {
                        store.put(counter, bytes(Long.toString(value + 1)), expected);
                        done++;
                    } catch (ConflictException lost) {
                        // another thread incremented first: read again
                    }
                }
                return done;
            });
            int total = successes.stream().mapToInt(Integer::intValue).sum();
            assertThat(total).isEqualTo(THREADS * WRITES_PER_THREAD);
            StoredResource last = store.get(counter).orElseThrow();
            // Every acknowledged increment is counted once: none overwrote another.
            assertThat(Long.parseLong(text(last))).isEqualTo(total);
            // Only successful puts changed the store; conflicts did not.
            assertThat(last.resourceVersion()).isEqualTo(total);
            assertThat(store.revision()).isEqualTo(total);
        }
        try (FileStore reopened = FileStore.open(root)) {
            assertThat(text(reopened.get(counter).orElseThrow()))
                    .isEqualTo(Integer.toString(THREADS * WRITES_PER_THREAD));
        }
    }

    @Test
    void putsToDistinctKeysGetUniqueVersions() throws Exception {
        try (FileStore store = FileStore.open(root)) {
            List<List<Long>> perThread = StoreContract.runOnThreads(THREADS, thread -> {
                ResourceKey key = new ResourceKey("Counter", "test", "key-" + thread);
                List<Long> versions = new ArrayList<>();
                long expected = Store.MUST_NOT_EXIST;
                for (int i = 1; i <= WRITES_PER_THREAD; i++) {
                    expected = store.put(key, bytes(Integer.toString(i)), expected).resourceVersion();
                    versions.add(expected);
                }
                return versions;
            });
            long total = (long) THREADS * WRITES_PER_THREAD;
            assertThat(perThread.stream().flatMap(List::stream))
                    .containsExactlyInAnyOrderElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
            for (List<Long> versions : perThread) {
                assertThat(versions).isSorted();
            }
            assertThat(store.revision()).isEqualTo(total);
            assertThat(store.list("Counter", "test")).hasSize(THREADS)
                    .allSatisfy(r -> assertThat(text(r)).isEqualTo(Integer.toString(WRITES_PER_THREAD)));
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(StoredResource resource) {
        return new String(resource.document(), StandardCharsets.UTF_8);
    }
}
