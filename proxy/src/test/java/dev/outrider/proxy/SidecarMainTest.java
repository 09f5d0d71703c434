package dev.outrider.proxy;

import dev.outrider.proxy.config.BootstrapConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class SidecarMainTest {

    /** Output, error output and exit code of one run. */
    private record Run(int exit, String out, String err) {
    }

    private static Run run(SidecarMain main, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    /** {@code outrider proxy ARGS}, as the launcher and the image's entry point run it. */
    private static Run outrider(String... args) {
        return run(new SidecarMain(), args);
    }

    private static Path file(Path dir, String yaml) throws IOException {
        Path f = dir.resolve("sidecar.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void proxyHelpShowsTheConfigOption() {
        Run r = outrider("proxy", "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage: outrider proxy").contains("--config=FILE");
    }

    @Test
    void configIsRequired() {
        Run r = outrider("proxy");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--config");
    }

    @Test
    void badConfigExitsTwoNamingFileAndField(@TempDir Path dir) throws IOException {
        Path f = file(dir, "node: {service: orders}\nhttp: {maxHeaderSizes: 1}\n");
        Run r = outrider("proxy", "--config", f.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("outrider proxy: " + f + ": http.maxHeaderSizes: unknown field");
    }

    @Test
    void aYamlAliasInTheConfigExitsTwoNamingTheField(@TempDir Path dir) throws IOException {
        Path f = file(dir, "node: {service: orders, trustDomain: *td}\n");
        Run r = outrider("proxy", "--config", f.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).startsWith("outrider proxy: " + f + ": node.trustDomain: YAML alias *td (line 1, column 38)"
                + " is not supported; quote a value that starts with '*'");
    }

    @Test
    void missingConfigFileExitsTwo(@TempDir Path dir) {
        Path f = dir.resolve("nope.yaml");
        Run r = outrider("proxy", "--config", f.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("outrider proxy: " + f + ": no such file" + System.lineSeparator());
    }

    @Test
    void startFailureExitsOneNamingTheListeners(@TempDir Path dir) throws IOException {
        Path f = file(dir, "node: {service: orders}\n");
        SidecarMain cmd = new SidecarMain(cfg -> {
            throw new BindException("bind(..) failed: Address already in use");
        }, action -> { });
        Run r = run(cmd, "--config", f.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).startsWith("outrider proxy: cannot start: bind(..) failed: Address already in use")
                .contains("inbound 0.0.0.0:15006").contains("admin 127.0.0.1:15000");
    }

    @Test
    void bindFailureThatNamesTheAddressIsShownAsIs() {
        BootstrapConfig cfg = dev.outrider.proxy.config.BootstrapLoader.parse("node: {service: a}\n", "t");
        Exception e = new IllegalStateException("inbound listener",
                new BindException("0.0.0.0:15006: Address already in use"));
        assertThat(SidecarMain.startFailure(cfg, new RuntimeException("0.0.0.0:15006: Address already in use", e)))
                .isEqualTo("0.0.0.0:15006: Address already in use");
        assertThat(SidecarMain.startFailure(cfg, new IllegalStateException("no certificate")))
                .isEqualTo("IllegalStateException: no certificate");
    }

    @Test
    void shutdownSignalDrainsAndExitsZero(@TempDir Path dir) throws IOException {
        Path f = file(dir, "node: {service: orders}\n");
        CompletableFuture<Void> terminated = new CompletableFuture<>();
        AtomicInteger drains = new AtomicInteger();
        List<BootstrapConfig> started = new ArrayList<>();
        SidecarMain.Running running = new SidecarMain.Running() {
            @Override
            public void drain() {
                drains.incrementAndGet();
                terminated.complete(null);
            }

            @Override
            public CompletableFuture<Void> terminated() {
                return terminated;
            }

            @Override
            public String listeners() {
                return "inbound 127.0.0.1:1";
            }
        };
        // The fake "signal" arrives as soon as handlers are installed, like a SIGTERM right after start.
        SidecarMain cmd = new SidecarMain(cfg -> {
            started.add(cfg);
            return running;
        }, action -> action.accept("TERM"));

        Run r = run(cmd, "--config", f.toString());

        assertThat(r.exit()).isZero();
        assertThat(started).singleElement().extracting(c -> c.node().service()).isEqualTo("orders");
        assertThat(drains).hasValue(1);
    }

    @Test
    void failureWhileRunningExitsOne(@TempDir Path dir) throws IOException {
        Path f = file(dir, "node: {service: orders}\n");
        SidecarMain.Running running = new SidecarMain.Running() {
            @Override
            public void drain() {
            }

            @Override
            public CompletableFuture<Void> terminated() {
                return CompletableFuture.failedFuture(new IllegalStateException("event loop died"));
            }

            @Override
            public String listeners() {
                return "";
            }
        };
        Run r = run(new SidecarMain(cfg -> running, action -> { }), "--config", f.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("event loop died");
    }
}
