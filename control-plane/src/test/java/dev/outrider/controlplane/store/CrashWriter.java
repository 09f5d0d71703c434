package dev.outrider.controlplane.store;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Child process of {@link FileStoreCrashTest}: opens the store in {@code args[0]} and puts resources forever,
 * printing {@code <name> <version> <document>} for each put only after it returned (was acknowledged).
 * The test kills it with SIGKILL at an arbitrary moment.
 */
public final class CrashWriter {
    static final String KIND = "Crash";
    static final String NAMESPACE = "crash";
    static final int KEYS = 10;

    private CrashWriter() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Path.of(args[0]);
        String round = args[1];
        FileStore store = FileStore.open(root); // never closed: the process dies holding it
        for (long i = 0; ; i++) {
            ResourceKey key = new ResourceKey(KIND, NAMESPACE, "r-" + (i % KEYS));
            String document = "round-" + round + "-seq-" + i;
            StoredResource stored = store.put(key, document.getBytes(StandardCharsets.UTF_8), Store.ANY_VERSION);
            System.out.println(key.name() + " " + stored.resourceVersion() + " " + document);
            System.out.flush();
        }
    }
}
