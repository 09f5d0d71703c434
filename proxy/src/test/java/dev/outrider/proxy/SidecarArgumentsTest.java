package dev.outrider.proxy;

import dev.outrider.proxy.SidecarArguments.Help;
import dev.outrider.proxy.SidecarArguments.Refused;
import dev.outrider.proxy.SidecarArguments.Run;
import dev.outrider.proxy.SidecarArguments.Version;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sidecar's command line reads as {@code outrider proxy} always has: the expected values are what the picocli
 * command it replaced printed for the same arguments (forms, precedence and messages).
 */
class SidecarArgumentsTest {

    private static Refused refused(String message) {
        return new Refused(message);
    }

    @Test
    void theConfigFileInEveryForm() {
        for (String[] args : List.of(new String[] {"proxy", "-c", "f.yaml"}, new String[] {"--config", "f.yaml"},
                new String[] {"proxy", "--config=f.yaml"}, new String[] {"-cf.yaml"}, new String[] {"-c=f.yaml"},
                new String[] {"-c", "f.yaml", "--"}, new String[] {"-c", "--bogus"})) {
            Object expected = new Run(Path.of(args[args.length - 1].equals("--bogus") ? "--bogus" : "f.yaml"));
            assertThat(SidecarArguments.parse(args)).as(String.join(" ", args)).isEqualTo(expected);
        }
    }

    @Test
    void helpBeforeVersionBeforeAMissingConfig() {
        assertThat(SidecarArguments.parse("proxy", "--help")).isEqualTo(new Help());
        assertThat(SidecarArguments.parse("-Vh")).isEqualTo(new Help());
        assertThat(SidecarArguments.parse("-c", "f", "-x", "--help")).isEqualTo(new Help());
        assertThat(SidecarArguments.parse("-h=true")).isEqualTo(new Help());
        assertThat(SidecarArguments.parse("--version", "--bogus")).isEqualTo(new Version());
        assertThat(SidecarArguments.parse("--version=false", "-c", "f")).isEqualTo(new Version());
    }

    @Test
    void errorsWhileReadingComeBeforeHelp() {
        assertThat(SidecarArguments.parse("-h", "-c"))
                .isEqualTo(refused("Missing required parameter for option '--config' (FILE)"));
        assertThat(SidecarArguments.parse("-h", "-c", "-V"))
                .isEqualTo(refused("Expected parameter for option '--config' but found '-V'"));
        assertThat(SidecarArguments.parse("-h", "-c", "a", "-c", "b"))
                .isEqualTo(refused("option '--config' (FILE) should be specified only once"));
        assertThat(SidecarArguments.parse("-c", "a", "-hh")).isEqualTo(refused("option '--help' should be specified only once"));
        assertThat(SidecarArguments.parse("--help=x"))
                .isEqualTo(refused("Invalid value for option '--help': 'x' is not a boolean"));
        assertThat(SidecarArguments.parse("-c", "-hc"))
                .isEqualTo(refused("Expected parameter for option '--config' but found '-hc'"));
    }

    @Test
    void aMissingConfigBeforeUnknownArguments() {
        assertThat(SidecarArguments.parse("proxy")).isEqualTo(refused("Missing required option: '--config=FILE'"));
        assertThat(SidecarArguments.parse("proxy", "--bogus")).isEqualTo(refused("Missing required option: '--config=FILE'"));
        assertThat(SidecarArguments.parse("--", "-c", "f")).isEqualTo(refused("Missing required option: '--config=FILE'"));
    }

    @Test
    void unknownOptionsAndUnmatchedArguments() {
        assertThat(SidecarArguments.parse("proxy", "-c", "f", "--bogus")).isEqualTo(refused("Unknown option: '--bogus'"));
        assertThat(SidecarArguments.parse("proxy", "-c", "f", "-x", "b")).isEqualTo(refused("Unknown options: '-x', 'b'"));
        assertThat(SidecarArguments.parse("proxy", "-c", "f", "extra"))
                .isEqualTo(refused("Unmatched argument at index 3: 'extra'"));
        assertThat(SidecarArguments.parse("proxy", "-c", "f", "a", "-x"))
                .isEqualTo(refused("Unmatched arguments from index 3: 'a', '-x'"));
        assertThat(SidecarArguments.parse("proxy", "-c", "f", "-1")).isEqualTo(refused("Unmatched argument at index 3: '-1'"));
        assertThat(SidecarArguments.parse("proxy", "-c", "f", "--", "extra"))
                .isEqualTo(refused("Unmatched argument at index 4: 'extra'"));
        assertThat(SidecarArguments.parse("proxy", "-c", "f", "--", "-h"))
                .isEqualTo(new Refused("Unknown option: '-h'", List.of("-h", "--help")));
        assertThat(SidecarArguments.parse("proxy", "-c", "f", "--confi"))
                .isEqualTo(new Refused("Unknown option: '--confi'", List.of("--config")));
        assertThat(SidecarArguments.parse("proxy", "-c", "f", "--c"))
                .isEqualTo(new Refused("Unknown option: '--c'", List.of("-c", "--config")));
    }

    @Test
    void usageAndRefusalsArePrintedAsBefore() {
        String usage = String.join(System.lineSeparator(),
                "Usage: outrider proxy [-hV] -c=FILE",
                "Run the sidecar: inbound and outbound listeners, health and admin servers.",
                "SIGTERM or SIGINT drains in-flight requests, then exits 0.",
                "  -c, --config=FILE   The bootstrap YAML file (see the configuration reference",
                "                        in README.md).",
                "  -h, --help          Show this help message and exit.",
                "  -V, --version       Print version information and exit.", "");
        SidecarMain main = new SidecarMain(cfg -> {
            throw new AssertionError("not started");
        }, action -> { });

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertThat(main.run(new String[] {"proxy", "--help"}, new PrintWriter(out), new PrintWriter(err))).isZero();
        assertThat(out.toString()).isEqualTo(usage);
        assertThat(err.toString()).isEmpty();

        out = new StringWriter();
        err = new StringWriter();
        assertThat(main.run(new String[] {"proxy", "-c"}, new PrintWriter(out), new PrintWriter(err))).isEqualTo(2);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString())
                .isEqualTo("Missing required parameter for option '--config' (FILE)" + System.lineSeparator() + usage);

        err = new StringWriter();
        assertThat(main.run(new String[] {"proxy", "-c", "f", "--he"}, new PrintWriter(out), new PrintWriter(err)))
                .isEqualTo(2);
        assertThat(err.toString()).isEqualTo("Unknown option: '--he'" + System.lineSeparator()
                + "Possible solutions: --help" + System.lineSeparator());

        out = new StringWriter();
        assertThat(main.run(new String[] {"-V"}, new PrintWriter(out), new PrintWriter(new StringWriter()))).isZero();
        assertThat(out.toString()).isEqualTo("outrider dev" + System.lineSeparator());
    }
}
