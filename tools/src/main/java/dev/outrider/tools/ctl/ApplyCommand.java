package dev.outrider.tools.ctl;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneException;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.client.WrittenResource;
import dev.outrider.tools.cli.ExitCodes;
import dev.outrider.tools.ctl.Manifests.Manifest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ctl apply -f FILE}: every document is PUT to its kind's URL (created or replaced). A file that does not
 * parse applies nothing; otherwise each document is sent on its own, a failed one is reported with its file,
 * index, field and the server's message, and the others are still applied (exit 1 when any failed).
 */
@Command(name = "apply", mixinStandardHelpOptions = true,
        description = "Create or replace the resources in YAML or JSON files (one or more documents each).")
final class ApplyCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @ParentCommand
    private CtlCommand parent;

    @Mixin
    private CtlConnection connection;

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "FILE",
            description = "A YAML/JSON file, a directory of them, or - for stdin; repeatable.")
    private List<String> files;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NAMESPACE",
            description = "The namespace of documents without metadata.namespace.")
    private String namespace;

    @Override
    public Integer call() {
        return Ctl.run(spec, this::apply);
    }

    private int apply() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Manifest> manifests;
        try {
            manifests = Manifests.load(files, parent.stdin(), namespace);
        } catch (Manifests.ManifestException e) {
            err.println("error: " + e.getMessage() + " (nothing applied)");
            return ExitCodes.FAILURE;
        }
        if (manifests.isEmpty()) {
            err.println("error: no documents in " + String.join(", ", files));
            return ExitCodes.FAILURE;
        }
        int failed = 0;
        try (ControlPlaneClient client = connection.open()) {
            for (Manifest m : manifests) {
                if (m.problem() != null) {
                    err.println("error: " + m.where() + ": " + m.problem());
                    failed++;
                    continue;
                }
                try {
                    WrittenResource written = m.kind() == ResourceKind.MESH_CONFIG
                            ? client.putMeshConfig(m.json(), "application/json")
                            : client.putResource(m.kind(), m.namespace(), m.name(), m.json(), "application/json");
                    out.println(m.label() + " " + (written.created() ? "created" : "configured")
                            + " (resourceVersion " + written.resourceVersion() + ")");
                } catch (ControlPlaneException e) {
                    err.println("error: " + m.where() + ": " + describe(e));
                    failed++;
                } catch (IllegalArgumentException e) {
                    err.println("error: " + m.where() + ": " + e.getMessage());
                    failed++;
                }
            }
        }
        return failed == 0 ? ExitCodes.OK : ExitCodes.FAILURE;
    }

    /** The server's verdict on one document: {@code field: message (400 Invalid)}, or why there was none. */
    static String describe(ControlPlaneException e) {
        if (e.unreachable()) {
            return e.getMessage();
        }
        return (e.field() == null ? "" : e.field() + ": ") + e.serverMessage() + " (" + e.status() + " " + e.reason() + ")";
    }
}
