package dev.outrider.proxy.cli;

import dev.outrider.core.ctl.CtlCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * The {@code outrider} command: parses the command line and dispatches to a subcommand. Exit codes are
 * shared by all subcommands: 0 success, 1 failure at run time, 2 bad usage or bad configuration.
 */
@Command(name = "outrider",
        mixinStandardHelpOptions = true,
        versionProvider = OutriderCommand.Version.class,
        description = "Service-mesh sidecar proxy for the JVM.",
        subcommands = {ProxyCommand.class, DemoCommand.class, ExplainCommand.class, CtlCommand.class,
                InjectCommand.class, CommandLine.HelpCommand.class})
public final class OutriderCommand implements Callable<Integer> {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    @Spec
    private CommandSpec spec;

    /** Without a subcommand: the usage on stderr, exit 2. */
    @Override
    public Integer call() {
        spec.commandLine().getErr().println("outrider: missing subcommand");
        spec.commandLine().usage(spec.commandLine().getErr());
        return EXIT_USAGE;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with every subcommand, including {@code ctl explain} (which needs the proxy's engine). */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new OutriderCommand());
        cli.getSubcommands().get("ctl").addSubcommand("explain", new CtlExplainCommand());
        return cli;
    }

    /** The jar manifest's Implementation-Version, or {@code dev} when running from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = OutriderCommand.class.getPackage().getImplementationVersion();
            return new String[] {"outrider " + (v == null ? "dev" : v)};
        }
    }
}
