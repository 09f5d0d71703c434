package dev.outrider.tools.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.tools.cli.ExitCodes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ctl audit}: the control plane's audit trail of configuration changes ({@code GET /v1/audit}), oldest first;
 * a table by default. {@code --since} is passed on as given: the control plane reads it (an RFC 3339 time or a
 * duration back from now) and names it when it cannot.
 */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = "Show the audit trail: every configuration change and refused attempt, oldest first.")
final class AuditCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private CtlConnection connection;

    @Option(names = "--since", paramLabel = "TIME|DURATION",
            description = "Only records from this time on: RFC 3339 (2026-12-07T10:00:00Z) or a duration back from now"
                    + " (1h, 30m, 7d).")
    private String since;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NAMESPACE",
            description = "Only records about resources of this namespace.")
    private String namespace;

    @Option(names = "--limit", paramLabel = "N",
            description = "At most the newest N records (server default 500).")
    private Integer limit;

    @Option(names = {"-o", "--output"}, paramLabel = "yaml|json|table", defaultValue = "table",
            description = "Output format (default ${DEFAULT-VALUE}).")
    private String output;

    @Override
    public Integer call() {
        return Ctl.run(spec, this::audit);
    }

    private int audit() {
        Output.Format format = GetCommand.format(spec, output);
        if (since != null && since.isBlank()) {
            throw new ParameterException(spec.commandLine(), "--since: must not be empty");
        }
        if (limit != null && limit < 1) {
            throw new ParameterException(spec.commandLine(), "--limit: must be positive, not " + limit);
        }
        try (ControlPlaneClient client = connection.open()) {
            JsonNode answer = client.audit(since, namespace, limit);
            List<JsonNode> records = new ArrayList<>();
            answer.path("items").forEach(records::add);
            spec.commandLine().getOut().print(switch (format) {
                case JSON -> Output.json(answer);
                case YAML -> Output.yaml(records);
                case TABLE -> ResourceTables.audit(records);
            });
            int omitted = answer.path("omitted").asInt(0);
            if (omitted > 0 && format == Output.Format.TABLE) {
                spec.commandLine().getErr().println(omitted + " older record(s) left out; use --limit or --since");
            }
            return ExitCodes.OK;
        }
    }
}
