package dev.outrider.tools.ctl;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.document.Durations;
import dev.outrider.core.client.JoinToken;
import dev.outrider.tools.cli.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code ctl join-token create}: a single-use token a new sidecar gets its first certificate with. */
@Command(name = "join-token", mixinStandardHelpOptions = true,
        description = "Make join tokens for new sidecars.",
        subcommands = {JoinTokenCommand.Create.class, CommandLine.HelpCommand.class})
final class JoinTokenCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getErr().println("join-token: missing subcommand (create)");
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCodes.USAGE;
    }

    /**
     * Prints the token alone on stdout (so {@code > token-file} captures exactly it) and what it is for on stderr.
     */
    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a join token for one sidecar of NAMESPACE/SERVICE_ACCOUNT; it works once.")
    static final class Create implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Mixin
        private CtlConnection connection;

        @Option(names = {"-n", "--namespace"}, required = true, paramLabel = "NAMESPACE",
                description = "The namespace of the workload.")
        private String namespace;

        @Option(names = {"--service-account"}, required = true, paramLabel = "SERVICE_ACCOUNT",
                description = "The service account of the workload.")
        private String serviceAccount;

        @Option(names = "--ttl", paramLabel = "DURATION", description = "How long it works if unused, e.g. 30m, 1h "
                + "(server default 1h, at most 24h).")
        private String ttl;

        @Override
        public Integer call() {
            return Ctl.run(spec, this::create);
        }

        private int create() {
            Duration duration = null;
            if (ttl != null) {
                try {
                    duration = Durations.parse(ttl);
                } catch (IllegalArgumentException e) {
                    throw new ParameterException(spec.commandLine(), "--ttl: " + e.getMessage());
                }
            }
            try (ControlPlaneClient client = connection.open()) {
                JoinToken token = client.createJoinToken(namespace, serviceAccount, duration);
                spec.commandLine().getOut().println(token.token());
                spec.commandLine().getErr().println("join token for " + token.identity() + ", single use, valid until "
                        + token.expiresAt());
                return ExitCodes.OK;
            }
        }
    }
}
