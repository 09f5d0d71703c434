package dev.outrider.controlplane.store;

import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Map;

/** The store contract against {@link FileStore} (FileStoreTest adds what is the file store's own). */
class FileStoreContractTest extends StoreContract {
    @TempDir
    Path root;

    private final Map<Store, Path> directories = new IdentityHashMap<>();

    @Override
    Store open() throws Exception {
        Path dir = root.resolve("store-" + directories.size());
        Store store = FileStore.open(dir);
        directories.put(store, dir);
        return store;
    }

    @Override
    Store reopen(Store store) throws Exception {
        store.close();
        Path dir = directories.remove(store);
        Store again = FileStore.open(dir);
        directories.put(again, dir);
        return again;
    }
}
