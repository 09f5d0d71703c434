package dev.outrider.tools;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** The tools' root command; the sidecar's own command line is SidecarMainTest's (proxy module). */
class OutriderCommandTest {

    /** Output, error output and exit code of one run. */
    private record Run(int exit, String out, String err) {
    }

    private static Run outrider(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = OutriderCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }


    @Test
    void helpListsTheSubcommands() {
        Run r = outrider("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage: outrider").contains("proxy");
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
}
