package dev.outrider.tools.ctl;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneException;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.tools.cli.ExitCodes;
import dev.outrider.tools.ctl.Manifests.Manifest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code ctl delete KIND NAME -n NS} or {@code ctl delete -f FILE}: deletes one resource, or every resource the
 * documents of the files name (each on its own, like {@code apply}). MeshConfig cannot be deleted.
 */
@Command(name = "delete", mixinStandardHelpOptions = true,
        description = "Delete a resource by kind and name, or the resources named in YAML/JSON files.")
final class DeleteCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @ParentCommand
    private CtlCommand parent;

    @Mixin
    private CtlConnection connection;

    @Parameters(arity = "0..2", paramLabel = "KIND NAME", description = "The kind and name of the resource.")
    private List<String> kindAndName;

    @Option(names = {"-f", "--filename"}, paramLabel = "FILE",
            description = "A YAML/JSON file, a directory of them, or - for stdin; repeatable.")
    private List<String> files;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NAMESPACE", description = "The namespace.")
    private String namespace;

    @Override
    public Integer call() {
        return Ctl.run(spec, this::delete);
    }

    private int delete() {
        boolean byName = kindAndName != null && !kindAndName.isEmpty();
        if (byName == (files != null)) {
            throw new ParameterException(spec.commandLine(), "give either KIND NAME or -f FILE");
        }
        List<Manifest> manifests;
        if (byName) {
            if (kindAndName.size() != 2) {
                throw new ParameterException(spec.commandLine(), "delete KIND NAME: NAME is missing");
            }
            ResourceKind kind = GetCommand.resolveKind(spec, kindAndName.get(0));
            if (kind.namespaced() && namespace == null) {
                throw new ParameterException(spec.commandLine(), "delete " + kind.singular() + " needs -n NAMESPACE");
            }
            manifests = List.of(new Manifest("command line", 1, 1, kind, kind.namespaced() ? namespace : null,
                    kindAndName.get(1), null, null));
        } else {
            try {
                manifests = Manifests.load(files, parent.stdin(), namespace);
            } catch (Manifests.ManifestException e) {
                spec.commandLine().getErr().println("error: " + e.getMessage() + " (nothing deleted)");
                return ExitCodes.FAILURE;
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int failed = 0;
        try (ControlPlaneClient client = connection.open()) {
            for (Manifest m : manifests) {
                String where = byName ? m.label() : m.where();
                if (m.problem() != null) {
                    err.println("error: " + where + ": " + m.problem());
                    failed++;
                } else if (m.kind() == ResourceKind.MESH_CONFIG) {
                    err.println("error: " + where + ": the mesh config cannot be deleted; apply the defaults instead");
                    failed++;
                } else {
                    try {
                        client.deleteResource(m.kind(), m.namespace(), m.name(), null);
                        out.println(m.label() + " deleted");
                    } catch (ControlPlaneException e) {
                        err.println("error: " + where + ": " + ApplyCommand.describe(e));
                        failed++;
                    } catch (IllegalArgumentException e) {
                        err.println("error: " + where + ": " + e.getMessage());
                        failed++;
                    }
                }
            }
        }
        return failed == 0 ? ExitCodes.OK : ExitCodes.FAILURE;
    }
}
