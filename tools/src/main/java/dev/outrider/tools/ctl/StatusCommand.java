package dev.outrider.tools.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.tools.cli.ExitCodes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ctl status}: every sidecar the control plane knows, with the version it applied against the latest and the
 * plaintext connections its inbound listener accepted; {@code --plaintext-since} lists only the sidecars that still
 * receive plaintext (unmeshed callers of a PERMISSIVE port), the ones in the way of STRICT.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the sidecars: identity, instance, service, address, latest and applied snapshot, state,"
                + " plaintext connections and when they last grew, error.")
final class StatusCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private CtlConnection connection;

    @Option(names = {"-o", "--output"}, paramLabel = "yaml|json|table", defaultValue = "table",
            description = "Output format (default ${DEFAULT-VALUE}).")
    private String output;

    @Option(names = "--plaintext-since", paramLabel = "DURATION|TIME",
            description = "Only the sidecars whose plaintext connection count grew since then: a duration back from"
                    + " now (1h, 7d) or an RFC 3339 time. The workloads that still have callers without a sidecar.")
    private String plaintextSince;

    @Override
    public Integer call() {
        return Ctl.run(spec, this::status);
    }

    private int status() {
        Output.Format format = GetCommand.format(spec, output);
        try (ControlPlaneClient client = connection.open()) {
            JsonNode answer = plaintextSince == null ? client.sidecars()
                    : client.sidecarsWithPlaintextSince(plaintextSince);
            List<JsonNode> sidecars = new ArrayList<>();
            answer.path("sidecars").forEach(sidecars::add);
            spec.commandLine().getOut().print(switch (format) {
                case JSON -> Output.json(answer);
                case YAML -> Output.yaml(sidecars);
                case TABLE -> ResourceTables.sidecars(sidecars);
            });
            return ExitCodes.OK;
        }
    }
}
