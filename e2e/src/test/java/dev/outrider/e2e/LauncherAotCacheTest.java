package dev.outrider.e2e;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The launcher's AOT cache, as a user meets it: {@code ./outrider proxy} trains a cache for its jars and JVM flags
 * through docker/training/train-sidecar.sh (a real sidecar calling itself over mTLS), then starts the JVM with it;
 * {@code -XX:AOTMode=on} (in JAVA_TOOL_OPTIONS, so the launcher's own flags stay as they are) makes the JVM refuse
 * to start when the cache it was given does not match, so a start that succeeds used it. The flags carry a property unique to
 * this run, so the cache is this test's own (the fingerprint covers the flags) and is removed afterwards.
 */
class LauncherAotCacheTest {
    private final String flags = "@config/jvm/sidecar.options -Doutrider.test.run=" + UUID.randomUUID();
    private List<Path> before;

    @AfterEach
    void removeThisTestsCaches() throws IOException {
        for (Path p : aotFiles()) {
            if (before != null && !before.contains(p)) {
                Files.deleteIfExists(p);
            }
        }
    }

    @Test
    void trainsACacheForItsJarsAndFlagsOnceAndTheJvmStartsWithIt() throws Exception {
        before = aotFiles();

        ImageHome.Run trained = launcher(Map.of("OUTRIDER_AOT", "train-now"));
        assertThat(trained.exit()).as(trained.output()).isZero();
        assertThat(trained.output()).contains("training the sidecar's AOT cache").contains("outrider ");
        List<Path> made = aotFiles().stream().filter(p -> !before.contains(p)).toList();
        assertThat(made).as("the new cache and its training log").anyMatch(p -> p.toString().endsWith(".aot"));

        ImageHome.Run used = launcher(Map.of("JAVA_TOOL_OPTIONS", "-XX:AOTMode=on -XX:+PrintCommandLineFlags"));
        assertThat(used.exit()).as(used.output()).isZero();
        assertThat(used.output()).contains("outrider ").contains("-XX:AOTCache=target/aot/sidecar-")
                .doesNotContain("training");

        ImageHome.Run off = launcher(Map.of("OUTRIDER_AOT", "off", "JAVA_TOOL_OPTIONS", "-XX:+PrintCommandLineFlags"));
        assertThat(off.exit()).as(off.output()).isZero();
        assertThat(off.output()).contains("outrider ").doesNotContain("-XX:AOTCache=");

        ImageHome.Run wrong = launcher(Map.of("OUTRIDER_AOT", "sometimes"));
        assertThat(wrong.exit()).isEqualTo(2);
        assertThat(wrong.output()).contains("OUTRIDER_AOT must be auto, train-now or off, not 'sometimes'");
    }

    /** {@code ./outrider proxy --version} in the repository, with this test's JVM flags and {@code extra} env. */
    private ImageHome.Run launcher(Map<String, String> extra) throws Exception {
        Map<String, String> env = new HashMap<>();
        for (String k : List.of("PATH", "HOME", "LANG", "TMPDIR", "JAVA_HOME")) {
            String v = System.getenv(k);
            if (v != null) {
                env.put(k, v);
            }
        }
        env.put("OUTRIDER_JAVA_OPTS", flags);
        env.putAll(extra);
        return ImageHome.run(env, List.of("bash", "-c", "cd " + ImageHome.ROOT + " && ./outrider proxy --version"));
    }

    private static List<Path> aotFiles() throws IOException {
        Path dir = ImageHome.ROOT.resolve("target/aot");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("sidecar-")).toList();
        }
    }
}
