package dev.outrider.controlplane.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.controlplane.store.EtcdStore;
import dev.outrider.controlplane.store.EtcdStoreConfig;
import dev.outrider.controlplane.store.FileStore;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoredResource;
import dev.outrider.core.files.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code outrider control-plane export-store} and {@code import-store}: moving a control plane's state between
 * stores (from the file store to etcd, from one etcd prefix or cluster to another), with the control plane stopped.
 *
 * <p>The export is one JSON document: {@code {"format": "outrider-store-export/v1", "revision": R, "resources":
 * [{"kind", "namespace", "name", "resourceVersion", "document" (base64 of the stored bytes)}]}}: every resource,
 * registration and join token (hashes only: tokens are never stored in clear), exactly as stored. The import
 * writes them into an empty store so that every version it gives is greater than {@code R}: sidecars holding a
 * snapshot of the old store take the first one of the new. A file store is locked while either command runs, so
 * they refuse to run beside a control plane on the same directory.
 *
 * <p>Exit 0; 2 for a usage error (named); 1 when the store or the file cannot be read or written.
 */
@Command(mixinStandardHelpOptions = true, versionProvider = ControlPlaneMain.Version.class)
final class StoreCommand implements Callable<Integer> {
    static final String EXPORT = "export-store";
    static final String IMPORT = "import-store";
    static final String FORMAT = "outrider-store-export/v1";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final boolean export;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "The control plane's data directory (the file store"
            + " is DIR/store). Needed with --store file.")
    private Path dataDir;

    @Mixin
    private StoreOptions store;

    @Option(names = "--out", paramLabel = "FILE", description = "export-store: write the export to FILE (atomically,"
            + " mode 0600) instead of standard output.")
    private Path out;

    @Option(names = "--in", paramLabel = "FILE", description = "import-store: the export to load (required).")
    private Path in;

    @Spec
    private CommandSpec spec;

    StoreCommand(boolean export) {
        this.export = export;
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        String name = export ? EXPORT : IMPORT;
        EtcdStoreConfig etcd;
        try {
            etcd = store.etcd();
            if (etcd == null && dataDir == null) {
                throw new IllegalArgumentException("--data-dir: required with --store file");
            }
            if (export && in != null) {
                throw new IllegalArgumentException("--in: only for " + IMPORT);
            }
            if (!export && (in == null || out != null)) {
                throw new IllegalArgumentException(in == null ? "--in: required" : "--out: only for " + EXPORT);
            }
        } catch (IllegalArgumentException e) {
            err.println("outrider control-plane " + name + ": " + e.getMessage());
            return ControlPlaneMain.EXIT_USAGE;
        }
        try (Store opened = etcd == null ? FileStore.open(dataDir.resolve("store")) : EtcdStore.open(etcd)) {
            return export ? export(opened, err) : load(opened, err);
        } catch (IOException | UncheckedIOException | IllegalStateException e) {
            err.println("outrider control-plane " + name + ": " + e.getMessage());
            return ControlPlaneMain.EXIT_FAILURE;
        }
    }

    private int export(Store from, PrintWriter err) throws IOException {
        long revision = from.revision();
        List<StoredResource> resources = from.listAll();
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT);
        root.put("revision", revision);
        ArrayNode list = root.putArray("resources");
        for (StoredResource r : resources) {
            ObjectNode n = list.addObject();
            n.put("kind", r.key().kind());
            n.put("namespace", r.key().namespace());
            n.put("name", r.key().name());
            n.put("resourceVersion", r.resourceVersion());
            n.put("document", Base64.getEncoder().encodeToString(r.document()));
        }
        byte[] bytes = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        if (out == null) {
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.println(new String(bytes, StandardCharsets.UTF_8));
            stdout.flush();
        } else {
            AtomicFiles.write(out, bytes, AtomicFiles.OWNER_ONLY);
        }
        err.println("outrider control-plane " + EXPORT + ": " + resources.size() + " resources at revision " + revision
                + (out == null ? "" : " written to " + out));
        return ControlPlaneMain.EXIT_OK;
    }

    private int load(Store into, PrintWriter err) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(in));
        } catch (IOException e) {
            err.println("outrider control-plane " + IMPORT + ": --in " + in + ": " + e.getMessage());
            return ControlPlaneMain.EXIT_USAGE;
        }
        List<StoredResource> resources = new ArrayList<>();
        long revision;
        try {
            if (root == null || !FORMAT.equals(root.path("format").asText())) {
                throw new IllegalArgumentException("not an export (format " + FORMAT + ")");
            }
            revision = root.path("revision").asLong(-1);
            if (revision < 0) {
                throw new IllegalArgumentException("revision: missing or not a number");
            }
            int i = 0;
            for (JsonNode n : root.path("resources")) {
                try {
                    ResourceKey key = new ResourceKey(n.path("kind").asText(), n.path("namespace").asText(),
                            n.path("name").asText());
                    long version = n.path("resourceVersion").asLong(0);
                    if (version <= 0 || version > revision) {
                        throw new IllegalArgumentException("resourceVersion " + n.path("resourceVersion")
                                + " is not in 1.." + revision);
                    }
                    resources.add(new StoredResource(key, version, Base64.getDecoder().decode(n.path("document").asText())));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("resources[" + i + "]: " + e.getMessage(), e);
                }
                i++;
            }
        } catch (IllegalArgumentException e) {
            err.println("outrider control-plane " + IMPORT + ": --in " + in + ": " + e.getMessage());
            return ControlPlaneMain.EXIT_USAGE;
        }
        into.restore(resources, revision);
        err.println("outrider control-plane " + IMPORT + ": " + resources.size() + " resources loaded; versions now"
                + " start after " + revision);
        return ControlPlaneMain.EXIT_OK;
    }
}
