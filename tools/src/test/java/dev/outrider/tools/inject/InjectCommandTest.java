package dev.outrider.tools.inject;

import dev.outrider.tools.OutriderCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code outrider inject} as a command: files and streams, exit codes, messages. The last tests run it as a real
 * process ({@link OutriderCommand#main}) with the manifest on stdin, as {@code ... | outrider inject | kubectl apply}
 * does.
 */
class InjectCommandTest {
    private record Run(int exit, String out, String err) {
    }

    private static Run inject(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = OutriderCommand.commandLine();
        ((InjectCommand) cli.getSubcommands().get("inject").getCommand())
                .stdin(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of("inject"));
        all.addAll(List.of(args));
        int exit = cli.execute(all.toArray(String[]::new));
        return new Run(exit, out.toString(), err.toString());
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = InjectCommandTest.class.getResourceAsStream("/inject/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void readsAFileAndWritesStdout(@TempDir Path dir) throws IOException {
        Path app = dir.resolve("app.yaml");
        Files.writeString(app, resource("deployment.input.yaml"));
        Run r = inject("", "-f", app.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEqualTo(resource("deployment.expected.yaml"));
        assertThat(r.err()).isEmpty();
    }

    @Test
    void readsStdinWithoutFOrWithDashAndWritesAFile(@TempDir Path dir) throws IOException {
        Path out = dir.resolve("out.yaml");
        Run r = inject(resource("job.input.yaml"), "-f", "-", "-o", out.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out()).isEmpty();
        assertThat(Files.readString(out)).isEqualTo(resource("job.expected.yaml"));
        assertThat(inject(resource("job.input.yaml")).out()).isEqualTo(resource("job.expected.yaml"));
    }

    @Test
    void flagsReachTheOutput() throws IOException {
        Run r = inject(resource("flags.input.yaml"), "--image", "registry.example.com/outrider/sidecar:0.1.0-rc1",
                "--control-plane", "cp.mesh.example.com:15443", "--trust-domain", "prod.example.com",
                "--service", "search-api", "--app-port", "9201", "--cpu-request", "250m", "--memory-request", "192Mi",
                "--cpu-limit", "2", "--memory-limit", "512Mi");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(resource("flags.expected.yaml"));
        Run legacy = inject(resource("legacy.input.yaml"), "--legacy-sidecar");
        assertThat(legacy.out()).isEqualTo(resource("legacy.expected.yaml"));
        assertThat(legacy.err()).contains("outrider inject: warning: <stdin>: document 2 (line 22), Job shop/settle: "
                + "with --legacy-sidecar");
    }

    @Test
    void badFlagsAreExitTwoWithTheFlagNamed() {
        Run r = inject("", "--memory-limit", "256MB");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("outrider inject: --memory-limit: '256MB' is not a Kubernetes quantity "
                + "(e.g. 100m, 0.5, 128Mi, 1Gi)" + System.lineSeparator());
        assertThat(r.out()).isEmpty();
        assertThat(inject("", "--app-port", "http").exit()).isEqualTo(2); // picocli's own conversion error
    }

    @Test
    void badInputIsExitTwoAndWritesNothing(@TempDir Path dir) throws IOException {
        Run r = inject("apiVersion: v1\nkind: Pod\n  bad: indent\n");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("outrider inject: <stdin>: document 1: not YAML: ").contains("(line 3, column");
        Run missing = inject("", "-f", dir.resolve("nope.yaml").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).endsWith("nope.yaml: no such file" + System.lineSeparator());
        Path latin1 = dir.resolve("latin1.yaml");
        Files.write(latin1, "a: caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(inject("", "-f", latin1.toString()).err()).endsWith("latin1.yaml: not UTF-8 text" + System.lineSeparator());
        Path out = dir.resolve("out.yaml");
        assertThat(inject("kind: Pod\napiVersion: v1\nspec: {containers: []}\n", "-o", out.toString()).exit())
                .isEqualTo(2);
        assertThat(out).doesNotExist();
    }

    @Test
    void helpSaysCommentsAreNotKept() {
        Run r = inject("", "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage: outrider inject", "--legacy-sidecar", "--cpu-request=QUANTITY",
                "Comments in the input are not kept", "kubectl apply -f -");
    }

    // ---- a real process, as in a shell pipeline ----

    private record ProcessRun(int exit, String out, String err) {
    }

    private static ProcessRun process(String stdin, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(OutriderCommand.class.getName());
        cmd.add("inject");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
        CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("outrider inject did not exit within 60 s");
        }
        return new ProcessRun(p.exitValue(), new String(out.get(), StandardCharsets.UTF_8),
                new String(err.get(), StandardCharsets.UTF_8));
    }

    private static byte[] readAll(InputStream in) {
        try {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void asAProcessItReadsStdinAndWritesStdout() throws Exception {
        ProcessRun r = process(resource("multi-document.input.yaml"));
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(resource("multi-document.expected.yaml"));
        assertThat(r.err()).isEmpty();
        ProcessRun again = process(r.out());
        assertThat(again.out()).isEqualTo(r.out());
    }

    @Test
    void asAProcessBadInputExitsTwoWithTheDocumentAndLine() throws Exception {
        String conflicting = resource("pod.input.yaml") + "  volumes:\n  - name: outrider-tmp\n    emptyDir: {}\n";
        ProcessRun r = process("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n" + conflicting);
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err().strip()).isEqualTo("outrider inject: <stdin>: document 2 (line 5), Pod shop/debug-client: "
                + "already uses the sidecar's names or ports: volume 'outrider-tmp' (spec.volumes[0]) (rename them, "
                + "or opt out with outrider.dev/inject: \"false\")");
    }
}
