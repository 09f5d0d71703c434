package dev.outrider.tools.inject;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The golden files under {@code src/test/resources/inject/}: {@code <case>.input.yaml} and the exact output expected
 * for it, {@code <case>.expected.yaml}, with the options each case is injected with. The expected files are written
 * only on purpose: {@code -Dinject.golden.write=true} (then review the diff); a normal run never changes them.
 */
final class GoldenCases {
    static final String WRITE_PROPERTY = "inject.golden.write";

    /** One case: its name and the options (as the flags would give them). */
    record Case(String name, InjectOptions options) {
        @Override
        public String toString() {
            return name;
        }

        String input() {
            return resource(name + ".input.yaml");
        }

        String expected() {
            return resource(name + ".expected.yaml");
        }
    }

    static final InjectOptions DEFAULTS = InjectOptions.defaults();
    static final InjectOptions LEGACY = new InjectOptions(InjectOptions.DEFAULT_IMAGE,
            InjectOptions.DEFAULT_CONTROL_PLANE, InjectOptions.DEFAULT_TRUST_DOMAIN, null, null, true,
            SidecarResources.DEFAULT);
    static final InjectOptions ALL_FLAGS = new InjectOptions("registry.example.com/outrider/sidecar:0.1.0-rc1",
            "cp.mesh.example.com:15443", "prod.example.com", "search-api", 9201, false,
            SidecarResources.of("250m", "192Mi", "2", "512Mi"));

    static final List<Case> ALL = List.of(
            new Case("deployment", DEFAULTS),
            new Case("statefulset", DEFAULTS),
            new Case("daemonset", DEFAULTS),
            new Case("replicaset", DEFAULTS),
            new Case("job", DEFAULTS),
            new Case("cronjob", DEFAULTS),
            new Case("pod", DEFAULTS),
            new Case("multi-document", DEFAULTS),
            new Case("legacy", LEGACY),
            new Case("opt-out", DEFAULTS),
            new Case("passthrough", DEFAULTS),
            new Case("flags", ALL_FLAGS));

    private GoldenCases() {
    }

    static String resource(String file) {
        try (InputStream in = GoldenCases.class.getResourceAsStream("/inject/" + file)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource inject/" + file
                        + (file.endsWith(".expected.yaml") ? " (write it with -D" + WRITE_PROPERTY + "=true)" : ""));
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean writing() {
        return Boolean.getBoolean(WRITE_PROPERTY);
    }

    /** Writes {@code <case>.expected.yaml} into the source tree (only when {@link #writing()}). */
    static void write(Case c, String text) {
        Path dir = Path.of(System.getProperty("basedir", "."), "src", "test", "resources", "inject");
        try {
            Files.writeString(dir.resolve(c.name() + ".expected.yaml"), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
