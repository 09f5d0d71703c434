package dev.outrider.controlplane.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A real crash: a child JVM writes through a {@link FileStore} and reports each acknowledged put; the test
 * kills it with SIGKILL ({@link Process#destroyForcibly()}) mid-stream, reopens the directory and requires
 * every acknowledged write, in several rounds on the same directory (each child also opens what the previous
 * one left, temp files included). A process kill keeps the OS page cache, so this proves atomicity and the
 * loader, not the fsyncs, which only a power cut would exercise.
 */
@Timeout(180)
class FileStoreCrashTest {
    private static final int ROUNDS = 3;
    private static final int ACKS_BEFORE_KILL = 40;

    @TempDir
    Path root;
    @TempDir
    Path logs;

    record Ack(long version, String document) {
    }

    @Test
    void killMinusNineLosesNoAcknowledgedWrite() throws Exception {
        Map<String, Ack> acknowledged = new HashMap<>();
        long highestAck = 0;
        for (int round = 1; round <= ROUNDS; round++) {
            Path stderr = logs.resolve("writer-" + round + ".err");
            Process child = new ProcessBuilder(javaCommand(), "-cp", System.getProperty("java.class.path"),
                    CrashWriter.class.getName(), root.toString(), Integer.toString(round))
                    .redirectError(stderr.toFile())
                    .start();
            try {
                BufferedReader out = new BufferedReader(
                        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
                for (int acks = 0; acks < ACKS_BEFORE_KILL; acks++) {
                    String line = out.readLine();
                    if (line == null) {
                        fail("writer exited early (" + child.waitFor() + "): " + Files.readString(stderr));
                    }
                    String[] parts = line.split(" ", 3);
                    Ack ack = new Ack(Long.parseLong(parts[1]), parts[2]);
                    Ack previous = acknowledged.put(parts[0], ack);
                    assertThat(previous == null || previous.version() < ack.version())
                            .as("versions of %s grow: %s then %s", parts[0], previous, ack).isTrue();
                    assertThat(ack.version()).as("revision grows across rounds").isGreaterThan(highestAck);
                    highestAck = ack.version();
                }
            } finally {
                child.destroyForcibly(); // SIGKILL on POSIX: no shutdown hooks, no finally blocks in the child
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }

            try (FileStore store = FileStore.open(root)) {
                for (Map.Entry<String, Ack> entry : acknowledged.entrySet()) {
                    ResourceKey key = new ResourceKey(CrashWriter.KIND, CrashWriter.NAMESPACE, entry.getKey());
                    Ack ack = entry.getValue();
                    StoredResource stored = store.get(key)
                            .orElseThrow(() -> new AssertionError("acknowledged " + key + " is missing"));
                    assertThat(stored.resourceVersion()).as("version of %s", key).isGreaterThanOrEqualTo(ack.version());
                    if (stored.resourceVersion() == ack.version()) {
                        assertThat(new String(stored.document(), StandardCharsets.UTF_8)).isEqualTo(ack.document());
                    }
                }
                assertThat(store.revision()).isGreaterThanOrEqualTo(highestAck);
                highestAck = store.revision(); // the next child continues from here
            }
        }
        assertThat(acknowledged).hasSize(CrashWriter.KEYS);
    }

    private static String javaCommand() {
        return ProcessHandle.current().info().command()
                .orElseGet(() -> Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
