package dev.outrider.tools.ctl;

import dev.outrider.tools.cli.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.InputStream;
import java.util.concurrent.Callable;

import static java.util.Objects.requireNonNull;

/**
 * {@code outrider ctl}: the operator's command line for the control plane (docs/control-plane.md). Each subcommand
 * takes the connection options of {@link CtlConnection}. Exit codes: 0 success, 1 failure (including any document
 * of {@code apply} that failed), 2 bad usage.
 *
 * <p>Mountable under another picocli command ({@code addSubcommand("ctl", new CtlCommand())}, or in its
 * {@code subcommands}), which may add more subcommands to it.
 */
@Command(name = "ctl",
        mixinStandardHelpOptions = true,
        description = "Operate the Outrider control plane: apply, get and delete resources, see sidecars,"
                + " make join tokens, read the audit trail.",
        subcommands = {ApplyCommand.class, GetCommand.class, DeleteCommand.class, StatusCommand.class,
                JoinTokenCommand.class, AuditCommand.class, CommandLine.HelpCommand.class})
public final class CtlCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    private final InputStream stdin;

    public CtlCommand() {
        this(System.in);
    }

    /** @param stdin what {@code -f -} reads */
    public CtlCommand(InputStream stdin) {
        this.stdin = requireNonNull(stdin, "stdin");
    }

    InputStream stdin() {
        return stdin;
    }

    /** Without a subcommand: the usage on stderr, exit 2. */
    @Override
    public Integer call() {
        spec.commandLine().getErr().println("ctl: missing subcommand");
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new CtlCommand()).execute(args));
    }
}
