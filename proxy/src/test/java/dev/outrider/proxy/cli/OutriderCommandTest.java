package dev.outrider.proxy.cli;

import dev.outrider.proxy.config.BootstrapConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

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

class OutriderCommandTest {

    /** Output, error output and exit code of one run. */
    private record Run(int exit, String out, String err) {
    }

    private static Run run(Object command, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(command);
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    private static Run outrider(String... args) {
        return run(new OutriderCommand(), args);
    }

    private static Path file(Path dir, String yaml) throws IOException {
        Path f = dir.resolve("sidecar.yaml");
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void helpListsTheSubcommands() {
        Run r = outrider("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage: outrider").contains("proxy");
    }

    @Test
    void proxyHelpShowsTheConfigOption() {
        Run r = outrider("proxy", "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage: outrider proxy").contains("--config=FILE");
    }

    @Test
    void versionIsPrinted() {
        Run r = outrider("--version");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("outrider ");
    }

    @Test
    void noSubcommandIsAUsageError() {
        Run r = outrider();
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("missing subcommand").contains("Usage: outrider");
    }

    @Test
    void unknownSubcommandIsAUsageError() {
        assertThat(outrider("prxy").exit()).isEqualTo(2);
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
        ProxyCommand cmd = new ProxyCommand(cfg -> {
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
        assertThat(ProxyCommand.startFailure(cfg, new RuntimeException("0.0.0.0:15006: Address already in use", e)))
                .isEqualTo("0.0.0.0:15006: Address already in use");
        assertThat(ProxyCommand.startFailure(cfg, new IllegalStateException("no certificate")))
                .isEqualTo("IllegalStateException: no certificate");
    }

    @Test
    void shutdownSignalDrainsAndExitsZero(@TempDir Path dir) throws IOException {
        Path f = file(dir, "node: {service: orders}\n");
        CompletableFuture<Void> terminated = new CompletableFuture<>();
        AtomicInteger drains = new AtomicInteger();
        List<BootstrapConfig> started = new ArrayList<>();
        ProxyCommand.Running running = new ProxyCommand.Running() {
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
        ProxyCommand cmd = new ProxyCommand(cfg -> {
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
        ProxyCommand.Running running = new ProxyCommand.Running() {
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
        Run r = run(new ProxyCommand(cfg -> running, action -> { }), "--config", f.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("event loop died");
    }
}
