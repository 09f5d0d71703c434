package dev.outrider.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * An installation laid out as the images lay out /opt/outrider ({@code app/} the jar and its {@code lib/},
 * {@code jvm/<name>.options}, {@code bin/} the entry points and health check from docker/bin, {@code aot/}),
 * built from the Maven build output, so the images' scripts and JVM flags run here as plain processes with
 * {@code OUTRIDER_HOME} pointing at it. {@code jre/} is the test JVM's JDK unless a jlinked runtime is linked in.
 */
final class ImageHome {
    static final Path ROOT = Path.of(System.getProperty("outrider.root", "..")).toAbsolutePath().normalize();

    enum Kind {
        SIDECAR("sidecar", "proxy", "outrider-proxy.jar", "sidecar-entrypoint"),
        CONTROL_PLANE("control-plane", "control-plane", "outrider-control-plane.jar", "control-plane-entrypoint");

        final String name;
        final String module;
        final String jar;
        final String entrypoint;

        Kind(String name, String module, String jar, String entrypoint) {
            this.name = name;
            this.module = module;
            this.jar = jar;
            this.entrypoint = entrypoint;
        }
    }

    final Path home;
    final Kind kind;

    private ImageHome(Path home, Kind kind) {
        this.home = home;
        this.kind = kind;
    }

    /** Copies the packaged jar, lib/, the options file and docker/bin into {@code home}. */
    static ImageHome create(Path home, Kind kind) throws IOException {
        Path target = ROOT.resolve(kind.module).resolve("target");
        Path jar = target.resolve(kind.jar);
        Path lib = target.resolve("lib");
        if (!Files.isRegularFile(jar) || !Files.isDirectory(lib)) {
            throw new IllegalStateException(jar + " or " + lib + " is missing: the image tests run the packaged jars "
                    + "(./mvnw -pl e2e -am verify, or package before -Dtest=Image*)");
        }
        Path newest = newestClass(target.resolve("classes"));
        if (newest != null && Files.getLastModifiedTime(newest).compareTo(Files.getLastModifiedTime(jar)) > 0) {
            throw new IllegalStateException(jar + " is older than " + newest + ": package again");
        }
        Path app = Files.createDirectories(home.resolve("app/lib"));
        Files.copy(jar, home.resolve("app").resolve(kind.jar), StandardCopyOption.COPY_ATTRIBUTES);
        try (Stream<Path> jars = Files.list(lib)) {
            for (Path j : jars.toList()) {
                Files.copy(j, app.resolve(j.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        Files.createDirectories(home.resolve("jvm"));
        Files.copy(ROOT.resolve("config/jvm/" + kind.name + ".options"), home.resolve("jvm/" + kind.name + ".options"));
        Files.createDirectories(home.resolve("bin"));
        for (String script : List.of(kind.entrypoint, "healthcheck", "outrider-jvm.sh")) {
            Files.copy(ROOT.resolve("docker/bin").resolve(script), home.resolve("bin").resolve(script),
                    StandardCopyOption.COPY_ATTRIBUTES);
        }
        Files.createDirectories(home.resolve("aot"));
        return new ImageHome(home, kind);
    }

    private static Path newestClass(Path classes) throws IOException {
        if (!Files.isDirectory(classes)) {
            return null;
        }
        try (Stream<Path> files = Files.walk(classes)) {
            return files.filter(Files::isRegularFile).max((a, b) -> {
                try {
                    FileTime ta = Files.getLastModifiedTime(a);
                    return ta.compareTo(Files.getLastModifiedTime(b));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).orElse(null);
        }
    }

    /** Uses {@code runtime} (a jlinked image) as {@code jre/}, as the image does. */
    ImageHome withRuntime(Path runtime) throws IOException {
        Files.createSymbolicLink(home.resolve("jre"), runtime);
        return this;
    }

    Path entrypoint() {
        return home.resolve("bin").resolve(kind.entrypoint);
    }

    Path healthcheck() {
        return home.resolve("bin/healthcheck");
    }

    /**
     * The environment of a container started from the image: nothing from the test's environment that the
     * scripts read (OUTRIDER_*, JAVA_TOOL_OPTIONS), then {@code OUTRIDER_HOME}, the JDK running the tests as
     * {@code OUTRIDER_JAVA} unless {@code jre/} exists, and {@code extra}.
     */
    Map<String, String> environment(Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.keySet().removeIf(k -> k.startsWith("OUTRIDER_") || k.equals("JAVA_TOOL_OPTIONS") || k.equals("JDK_JAVA_OPTIONS"));
        env.put("OUTRIDER_HOME", home.toString());
        if (!Files.exists(home.resolve("jre"))) {
            env.put("OUTRIDER_JAVA", ProcessHandle.current().info().command().orElseThrow());
        }
        env.putAll(extra);
        return env;
    }

    /** Starts the entry point with {@code args}; its output goes to {@code log}. */
    MeshProcess start(Path log, Map<String, String> env, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(entrypoint().toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().clear();
        pb.environment().putAll(environment(env));
        return new MeshProcess(pb.start(), log);
    }

    /** Runs {@code command} to its end (at most 120 s); its exit code and output. */
    static Run run(Map<String, String> env, List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(command + " did not finish within 120 s");
        }
        return new Run(p.exitValue(), new String(out, java.nio.charset.StandardCharsets.UTF_8));
    }

    record Run(int exit, String output) {
    }
}
