package dev.outrider.e2e;

import com.sun.net.httpserver.HttpServer;
import dev.outrider.core.client.ControlPlaneClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sidecar image's entry point (docker/bin/sidecar-entrypoint), its JVM flags (config/jvm/sidecar.options)
 * and health check (docker/bin/healthcheck) as plain processes: {@code OUTRIDER_HOME} is an installation laid
 * out as in the image from the packaged jars ({@link ImageHome}), the configuration is the compose sidecars'
 * (docker/compose/sidecar.yaml, with loopback ports and temporary directories in place of the container's), and
 * the certificate comes from a real control plane with a join token, over real TLS.
 */
class ImageEntrypointTest {
    @TempDir
    Path dir;
    private final Started started = new Started();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void stop() throws Exception {
        started.close();
        http.close();
    }

    @Test
    void theEntryPointPreparesTheRunDirectoryBootstrapsFromTheControlPlaneAndDrainsOnSigterm() throws Exception {
        TestCa ca = TestCa.create(dir.resolve("ca"));
        ControlPlaneProcess cp = started.keep(ControlPlaneProcess.start(dir.resolve("cp"), MeshProcess.freePort(), ca));
        Files.writeString(dir.resolve("services.yaml"), MeshEndToEndTest.SERVICES);
        Ctl applied = Ctl.run(dir, cp, "apply", "-f", dir.resolve("services.yaml").toString());
        assertThat(applied.exitCode()).as(applied.output()).isZero();
        Backend backend = started.keep(Backend.start());

        ImageHome home = ImageHome.create(dir.resolve("opt-outrider"), ImageHome.Kind.SIDECAR);
        Pod pod = Pod.create(dir.resolve("pod"), cp, ca);
        try (ControlPlaneClient admin = cp.admin()) {
            Files.writeString(pod.join.resolve("orders"), admin.createJoinToken("shop", "orders",
                    Duration.ofMinutes(10)).token());
        }
        SidecarProcess.Ports ports = SidecarProcess.Ports.free();
        Path config = pod.config(ImageHome.ROOT.resolve("docker/compose/sidecar.yaml"), ports);
        Map<String, String> env = pod.env(config, ports, cp, backend.port(), "orders");

        // Not ready while nothing listens.
        assertThat(healthcheck(home, ports.health())).isEqualTo(1);

        MeshProcess sidecar = started.keep(home.start(dir.resolve("sidecar.log"), env, List.of()));
        awaitReady(sidecar, ports.health());

        assertThat(healthcheck(home, ports.health())).isZero();
        assertThat(healthcheck(home, ports.health(), "/live")).isZero();
        // The JVM replaced the shell (so SIGTERM reaches it as PID 1 in a container), with the image's flags.
        String command = sidecar.process.info().commandLine().orElse("");
        assertThat(sidecar.process.info().command().orElse("")).endsWith("/java");
        assertThat(command).contains("@" + home.home.resolve("jvm/sidecar.options"))
                .contains("-Djava.io.tmpdir=" + pod.tmp).contains("-Dio.netty.native.workdir=" + pod.tmp)
                .contains("-jar " + home.home.resolve("app/outrider-proxy.jar") + " proxy --config " + config)
                .doesNotContain("AOTCache");
        // The run directory: the mesh CA copied as the trust bundle, then the issued key and certificate.
        assertThat(Files.readString(pod.run.resolve("ca-bundle.pem"))).contains(Files.readString(ca.certificate()).strip());
        assertThat(Files.getPosixFilePermissions(pod.run.resolve("key.pem")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(pod.run.resolve("cert.pem")).isNotEmptyFile();
        assertThat(pod.run.resolve("cache")).isDirectory();
        // The configuration came from the environment.
        String effective = get("http://127.0.0.1:" + ports.admin() + "/config").body().replaceAll("\\s", "");
        assertThat(effective).contains("\"service\":\"orders\",\"namespace\":\"shop\"")
                .contains("\"instance\":\"orders-1\"").contains("\"application\":\"127.0.0.1:" + backend.port() + "\"");

        sidecar.process.destroy(); // SIGTERM
        assertThat(sidecar.process.waitFor(30, TimeUnit.SECONDS)).as(sidecar.logText()).isTrue();
        assertThat(sidecar.process.exitValue()).as(sidecar.logText()).isZero();
        assertThat(sidecar.logText()).contains("received SIGTERM; draining").contains("drained");
        assertThat(healthcheck(home, ports.health())).isEqualTo(1);
    }

    @Test
    void theHealthCheckIsZeroOnlyFor200() throws Exception {
        ImageHome home = ImageHome.create(dir.resolve("opt-outrider"), ImageHome.Kind.SIDECAR);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/ready", ex -> {
            ex.sendResponseHeaders(503, -1);
            ex.close();
        });
        server.createContext("/live", ex -> {
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.start();
        try {
            int port = server.getAddress().getPort();
            assertThat(healthcheck(home, port)).as("503").isEqualTo(1);
            assertThat(healthcheck(home, port, "/live")).as("200").isZero();
            assertThat(healthcheck(home, port, "/nope")).as("404").isEqualTo(1);
            assertThat(run(home, List.of(home.healthcheck().toString(), "--tcp", String.valueOf(port))).exit()).isZero();
        } finally {
            server.stop(0);
        }
        int closed = MeshProcess.freePort();
        assertThat(run(home, List.of(home.healthcheck().toString(), "--tcp", String.valueOf(closed))).exit()).isEqualTo(1);
    }

    @Test
    void anUnsetVariableOfTheImageConfigStopsTheStartNamingIt() throws Exception {
        ImageHome home = ImageHome.create(dir.resolve("opt-outrider"), ImageHome.Kind.SIDECAR);
        Path run = Files.createDirectories(dir.resolve("run"));
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Map<String, String> env = Map.of("OUTRIDER_CONFIG", ImageHome.ROOT.resolve("docker/sidecar.yaml").toString(),
                "OUTRIDER_RUN_DIR", run.toString(), "OUTRIDER_TMP_DIR", tmp.toString(),
                "OUTRIDER_MESH_DIR", dir.resolve("no-mesh").toString());

        ImageHome.Run r = run(home, env, List.of(home.entrypoint().toString()));

        assertThat(r.exit()).as(r.output()).isEqualTo(2);
        assertThat(r.output()).contains("sidecar.yaml: node.service: environment variable OUTRIDER_SERVICE is not set")
                .contains("no trust bundle: " + run.resolve("ca-bundle.pem") + " is missing");
    }

    @Test
    void writableDirectoriesAreCheckedFirst() throws Exception {
        ImageHome home = ImageHome.create(dir.resolve("opt-outrider"), ImageHome.Kind.SIDECAR);
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Path missing = dir.resolve("no-run");

        ImageHome.Run noRun = run(home, Map.of("OUTRIDER_RUN_DIR", missing.toString(), "OUTRIDER_TMP_DIR",
                tmp.toString()), List.of(home.entrypoint().toString()));
        assertThat(noRun.exit()).isEqualTo(2);
        assertThat(noRun.output()).contains(missing + " is not a writable directory (mount an emptyDir or tmpfs there)");

        ImageHome.Run noTmp = run(home, Map.of("OUTRIDER_TMP_DIR", missing.toString()),
                List.of(home.entrypoint().toString(), "--version"));
        assertThat(noTmp.exit()).isEqualTo(2);
        assertThat(noTmp.output()).contains(missing + " is not a writable directory (mount a tmpfs or emptyDir there)");
    }

    @Test
    void argumentsRunOtherCommandsAndTheAotCacheIsUsedOnlyWhenItMatches() throws Exception {
        ImageHome home = ImageHome.create(dir.resolve("opt-outrider"), ImageHome.Kind.SIDECAR);
        Map<String, String> env = Map.of("OUTRIDER_TMP_DIR", Files.createDirectories(dir.resolve("tmp")).toString());

        ImageHome.Run version = run(home, env, List.of(home.entrypoint().toString(), "--version"));
        assertThat(version.exit()).as(version.output()).isZero();
        assertThat(version.output()).contains("outrider").doesNotContain("AOT cache");

        // A cache made for other flags, another runtime or other jars is left out, with one line saying so.
        Files.writeString(home.home.resolve("aot/sidecar.aot"), "not a cache");
        Files.writeString(home.home.resolve("aot/sidecar.aot.fingerprint"), "0000\n");
        ImageHome.Run stale = run(home, env, List.of(home.entrypoint().toString(), "--version"));
        assertThat(stale.exit()).as(stale.output()).isZero();
        assertThat(stale.output()).contains("sidecar-entrypoint: AOT cache " + home.home.resolve("aot/sidecar.aot")
                + " not used: it was made for another runtime, other JVM flags or other jars");

        Map<String, String> bad = new HashMap<>(env);
        bad.put("OUTRIDER_AOT", "sometimes");
        ImageHome.Run wrong = run(home, bad, List.of(home.entrypoint().toString(), "--version"));
        assertThat(wrong.exit()).isEqualTo(2);
        assertThat(wrong.output()).contains("OUTRIDER_AOT must be auto, off or train, not 'sometimes'");
    }

    private int healthcheck(ImageHome home, int port) throws Exception {
        return healthcheck(home, port, "/ready");
    }

    private int healthcheck(ImageHome home, int port, String path) throws Exception {
        return run(home, List.of(home.healthcheck().toString(), String.valueOf(port), path)).exit();
    }

    private static ImageHome.Run run(ImageHome home, List<String> command) throws Exception {
        return run(home, Map.of(), command);
    }

    private static ImageHome.Run run(ImageHome home, Map<String, String> env, List<String> command) throws Exception {
        return ImageHome.run(home.environment(env), command);
    }

    private void awaitReady(MeshProcess sidecar, int healthPort) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!sidecar.isAlive()) {
                throw new AssertionError("the sidecar exited with " + sidecar.process.exitValue() + ":\n"
                        + sidecar.logText());
            }
            HttpResponse<String> r = get("http://127.0.0.1:" + healthPort + "/ready");
            if (r != null && r.statusCode() == 200) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the sidecar was not ready within 60 s:\n" + sidecar.logText());
    }

    private HttpResponse<String> get(String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }
}
