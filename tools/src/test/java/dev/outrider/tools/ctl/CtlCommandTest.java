package dev.outrider.tools.ctl;

import dev.outrider.proxy.tls.TestPki;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;

/** ctl's command line: parsing, usage errors, and what apply prints without a control plane to talk to. */
class CtlCommandTest {
    private static final String TOKEN = "admin-token-that-must-not-be-printed";

    @TempDir
    Path dir;
    private StringWriter out;
    private StringWriter err;
    private String closedServer;
    private Path ca;
    private Path tokenFile;

    @BeforeEach
    void setUp() throws Exception {
        out = new StringWriter();
        err = new StringWriter();
        try (ServerSocket s = new ServerSocket(0)) {
            closedServer = "https://127.0.0.1:" + s.getLocalPort();
        }
        ca = dir.resolve("ca.pem");
        TestPki.root("test").writeBundle(ca);
        tokenFile = Files.writeString(dir.resolve("token"), TOKEN + "\n");
    }

    private int runWithStdin(String stdin, String... args) {
        CommandLine cmd = new CommandLine(new CtlCommand(new ByteArrayInputStream(stdin.getBytes())));
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        return cmd.execute(args);
    }

    private int run(String... args) {
        return runWithStdin("", args);
    }

    private String[] connected(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--server", closedServer, "--ca", ca.toString(), "--token-file", tokenFile.toString(),
                "--timeout", "5"));
        return all.toArray(new String[0]);
    }

    @Test
    void withoutSubcommandTheUsageIsPrintedAndTheExitIs2() {
        assertThat(run()).isEqualTo(2);
        assertThat(err.toString()).contains("ctl: missing subcommand").contains("apply").contains("join-token")
                .contains("audit");
    }

    @Test
    void aFileThatIsNotYamlAppliesNothingAndNamesFileDocumentAndLine() throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), """
                kind: Service
                metadata: {name: a, namespace: shop}
                ---
                kind: Service
                metadata: {name: b
                """);

        int exit = run(connected("apply", "-f", bad.toString()));

        assertThat(exit).isEqualTo(1);
        assertThat(err.toString()).startsWith("error: " + bad + ": document 2: not YAML: ")
                .contains("line ").contains("(nothing applied)");
        assertThat(out.toString()).isEmpty();
    }

    @Test
    void applyReportsEveryDocumentAndFailsWhenAnyFailed() throws Exception {
        int exit = runWithStdin("""
                kind: Service
                metadata: {name: a, namespace: shop}
                ---
                kind: Service
                metadata: {name: b}
                ---
                kind: Gateway
                metadata: {name: c, namespace: shop}
                """, connected("apply", "-f", "-"));

        assertThat(exit).isEqualTo(1);
        List<String> errors = err.toString().lines().toList();
        assertThat(errors).hasSize(3);
        assertThat(errors.get(0)).startsWith("error: <stdin>: document 1 (line 1), service shop/a: PUT "
                + "/v1/namespaces/shop/services/a: control plane " + closedServer + " unreachable");
        assertThat(errors.get(1)).isEqualTo("error: <stdin>: document 2 (line 4), service b: metadata.namespace: not set;"
                + " set it or use -n NAMESPACE");
        assertThat(errors.get(2)).startsWith("error: <stdin>: document 3 (line 7): kind: 'Gateway' is not one of");
        assertThat(err.toString() + out).doesNotContain(TOKEN);
    }

    @Test
    void connectionOptionsAreChecked() throws Exception {
        Path file = Files.writeString(dir.resolve("svc.yaml"), "kind: Service\nmetadata: {name: a, namespace: shop}\n");

        assertThat(run("apply", "-f", file.toString(), "--token-file", tokenFile.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--ca FILE (or OUTRIDER_CA) is required");

        err.getBuffer().setLength(0);
        assertThat(run("apply", "-f", file.toString(), "--ca", ca.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("no credentials");

        err.getBuffer().setLength(0);
        assertThat(run("apply", "-f", file.toString(), "--ca", ca.toString(), "--cert", ca.toString())).isEqualTo(2);
        assertThat(err.toString()).contains("--cert and --key go together");

        err.getBuffer().setLength(0);
        assertThat(run("apply", "-f", file.toString(), "--ca", ca.toString(), "--token-file", tokenFile.toString(),
                "--server", "http://127.0.0.1:15010")).isEqualTo(2);
        assertThat(err.toString()).contains("must be https://host[:port]");

        err.getBuffer().setLength(0);
        assertThat(run("apply", "-f", file.toString(), "--ca", ca.toString(), "--token-file", tokenFile.toString(),
                "--server-identity", "control-plane")).isEqualTo(2);
        assertThat(err.toString()).contains("not a SPIFFE ID");
    }

    @Test
    void defaultsWithoutEnvironment() {
        CommandLine cmd = new CommandLine(new CtlCommand());
        CommandLine get = cmd.getSubcommands().get("get");
        cmd.parseArgs("get", "ap");
        if (System.getenv("OUTRIDER_SERVER") == null) {
            assertThat((String) get.getCommandSpec().findOption("--server").getValue()).isEqualTo("https://127.0.0.1:15010");
        }
        assertThat((String) get.getCommandSpec().findOption("--server-identity").getValue())
                .isEqualTo("spiffe://cluster.local/ns/outrider-system/sa/control-plane");
        assertThat((String) get.getCommandSpec().findOption("-o").getValue()).isEqualTo("table");
    }

    @Test
    void getNeedsAKnownKindANamespaceForANameAndOneScope() {
        assertThat(run(connected("get", "gateways"))).isEqualTo(2);
        assertThat(err.toString()).contains("unknown resource kind 'gateways'; known: authorizationpolicy (ap)");

        err.getBuffer().setLength(0);
        assertThat(run(connected("get", "ap", "orders-allow"))).isEqualTo(2);
        assertThat(err.toString()).contains("get authorizationpolicy orders-allow needs -n NAMESPACE");

        err.getBuffer().setLength(0);
        assertThat(run(connected("get", "ap", "-n", "shop", "-A"))).isEqualTo(2);
        assertThat(err.toString()).contains("mutually exclusive");

        err.getBuffer().setLength(0);
        assertThat(run(connected("get", "svc", "-o", "xml"))).isEqualTo(2);
        assertThat(err.toString()).contains("-o xml: expected yaml, json or table");
    }

    @Test
    void getWithAKnownKindFailsAsUnreachableWithExit1() {
        assertThat(run(connected("get", "RateLimitPolicies", "-n", "shop"))).isEqualTo(1);
        assertThat(err.toString()).startsWith("error: GET /v1/namespaces/shop/ratelimitpolicies: control plane");
    }

    @Test
    void deleteNeedsKindAndNameOrFiles() {
        assertThat(run(connected("delete"))).isEqualTo(2);
        assertThat(err.toString()).contains("give either KIND NAME or -f FILE");

        err.getBuffer().setLength(0);
        assertThat(run(connected("delete", "ap", "orders-allow"))).isEqualTo(2);
        assertThat(err.toString()).contains("delete authorizationpolicy needs -n NAMESPACE");

        err.getBuffer().setLength(0);
        assertThat(run(connected("delete", "meshconfig", "default"))).isEqualTo(1);
        assertThat(err.toString()).contains("the mesh config cannot be deleted");
    }

    @Test
    void joinTokenCreateNeedsNamespaceServiceAccountAndAValidTtl() {
        assertThat(run(connected("join-token", "create", "--namespace", "shop"))).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required option: '--service-account=SERVICE_ACCOUNT'");

        err.getBuffer().setLength(0);
        assertThat(run(connected("join-token", "create", "--namespace", "shop", "--service-account", "orders",
                "--ttl", "1 hour"))).isEqualTo(2);
        assertThat(err.toString()).contains("--ttl: '1 hour' is not a duration");

        err.getBuffer().setLength(0);
        assertThat(run(connected("join-token"))).isEqualTo(2);
    }

    @Test
    void auditChecksItsOptionsAndFailsAsUnreachableWithExit1() {
        assertThat(run(connected("audit", "--limit", "0"))).isEqualTo(2);
        assertThat(err.toString()).contains("--limit: must be positive, not 0");

        err.getBuffer().setLength(0);
        assertThat(run(connected("audit", "-o", "xml"))).isEqualTo(2);
        assertThat(err.toString()).contains("-o xml: expected yaml, json or table");

        err.getBuffer().setLength(0);
        assertThat(run(connected("audit", "--since", " "))).isEqualTo(2);
        assertThat(err.toString()).contains("--since: must not be empty");

        err.getBuffer().setLength(0);
        assertThat(run(connected("audit", "--since", "1h", "-n", "shop"))).isEqualTo(1);
        assertThat(err.toString()).startsWith("error: ").doesNotContain(TOKEN);
    }

    @Test
    void mountsUnderAnotherRootWhichMayAddSubcommands() {
        @Command(name = "outrider")
        final class Root implements Callable<Integer> {
            @Override
            public Integer call() {
                return 0;
            }
        }
        @Command(name = "explain")
        final class Explain implements Callable<Integer> {
            @CommandLine.Mixin
            CtlConnection connection;

            @Override
            public Integer call() {
                return 7;
            }
        }
        CommandLine root = new CommandLine(new Root()).addSubcommand("ctl", new CtlCommand());
        root.getSubcommands().get("ctl").addSubcommand("explain", new Explain());
        root.setErr(new PrintWriter(err, true));

        assertThat(root.execute("ctl", "explain", "--ca", "x")).isEqualTo(7);
        assertThat(root.execute("ctl", "get", "nothing")).isEqualTo(2);
        assertThat(err.toString()).contains("unknown resource kind 'nothing'");
    }
}
