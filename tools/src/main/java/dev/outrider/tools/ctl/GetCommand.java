package dev.outrider.tools.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.tools.cli.ExitCodes;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ctl get KIND [NAME]}: one resource (needs {@code -n}) or a list, of one namespace ({@code -n}) or all
 * ({@code -A}, also without {@code -n}). MeshConfig has no namespace and one instance.
 */
@Command(name = "get", mixinStandardHelpOptions = true,
        description = "Show resources: KIND is authorizationpolicy (ap), requestauthentication (ra), "
                + "ratelimitpolicy (rlp), service (svc), sidecar (sc), serviceentry (se) or meshconfig, singular or plural.")
final class GetCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private CtlConnection connection;

    @Parameters(index = "0", paramLabel = "KIND", description = "The kind of resource.")
    private String kindName;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "One resource by name.")
    private String name;

    @ArgGroup(exclusive = true)
    private Scope scope;

    static final class Scope {
        @Option(names = {"-n", "--namespace"}, paramLabel = "NAMESPACE", description = "One namespace.")
        String namespace;

        @Option(names = {"-A", "--all-namespaces"}, description = "All namespaces (the default for lists).")
        boolean all;
    }

    @Option(names = {"-o", "--output"}, paramLabel = "yaml|json|table", defaultValue = "table",
            description = "Output format (default ${DEFAULT-VALUE}).")
    private String output;

    @Override
    public Integer call() {
        return Ctl.run(spec, this::get);
    }

    private int get() {
        ResourceKind kind = resolveKind(spec, kindName);
        Output.Format format = format(spec, output);
        String namespace = scope == null ? null : scope.namespace;
        if (kind.namespaced() && name != null && namespace == null) {
            throw new ParameterException(spec.commandLine(), "get " + kind.singular() + " " + name
                    + " needs -n NAMESPACE");
        }
        PrintWriter out = spec.commandLine().getOut();
        try (ControlPlaneClient client = connection.open()) {
            if (!kind.namespaced() || name != null) {
                JsonNode resource = kind.namespaced() ? client.getResource(kind, namespace, name) : client.getMeshConfig();
                out.print(switch (format) {
                    case JSON -> Output.json(resource);
                    case YAML -> Output.yaml(List.of(resource));
                    case TABLE -> ResourceTables.resources(kind, List.of(resource));
                });
                return ExitCodes.OK;
            }
            JsonNode list = client.listResources(kind, namespace);
            List<JsonNode> items = new ArrayList<>();
            list.path("items").forEach(items::add);
            if (items.isEmpty() && format == Output.Format.TABLE) {
                spec.commandLine().getErr().println("No " + kind.plural() + " found"
                        + (namespace == null ? "." : " in namespace " + namespace + "."));
                return ExitCodes.OK;
            }
            out.print(switch (format) {
                case JSON -> Output.json(list);
                case YAML -> Output.yaml(items);
                case TABLE -> ResourceTables.resources(kind, items);
            });
            return ExitCodes.OK;
        }
    }

    static ResourceKind resolveKind(CommandSpec spec, String name) {
        try {
            return ResourceKind.resolve(name);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    static Output.Format format(CommandSpec spec, String text) {
        try {
            return Output.Format.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }
}
