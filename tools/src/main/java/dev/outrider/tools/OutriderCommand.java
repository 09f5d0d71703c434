package dev.outrider.tools;

import dev.outrider.tools.cli.ExitCodes;
import dev.outrider.tools.ctl.CtlCommand;
import dev.outrider.tools.demo.DemoCommand;
import dev.outrider.tools.explain.CtlExplainCommand;
import dev.outrider.tools.explain.ExplainCommand;
import dev.outrider.tools.inject.InjectCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/**
 * The {@code outrider} tools command (outrider-tools.jar): parses the command line and dispatches to a tool. The
 * sidecar is not one of them: it runs from outrider-proxy.jar ({@code dev.outrider.proxy.SidecarMain}, as
 * {@code outrider proxy --config FILE}) without this command tree. Exit codes are shared by all subcommands
 * ({@link ExitCodes}): 0 success, 1 failure at run time, 2 bad usage or bad configuration.
 */
@Command(name = "outrider",
        mixinStandardHelpOptions = true,
        versionProvider = OutriderCommand.Version.class,
        description = {"Service-mesh sidecar proxy for the JVM.",
                "The sidecar itself runs from outrider-proxy.jar: outrider proxy --config FILE."},
        subcommands = {DemoCommand.class, ExplainCommand.class, CtlCommand.class, InjectCommand.class,
                CommandLine.HelpCommand.class})
public final class OutriderCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    /** Without a subcommand: the usage on stderr, exit 2. */
    @Override
    public Integer call() {
        spec.commandLine().getErr().println("outrider: missing subcommand");
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with every tool, including {@code ctl explain} (which needs the sidecar's engine). */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new OutriderCommand());
        cli.getSubcommands().get("ctl").addSubcommand("explain", CtlExplainCommand.class);
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
