package dev.outrider.controlplane.store;

import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/** The store contract against {@link FileStore} (FileStoreTest adds what is the file store's own). */
class FileStoreContractTest extends StoreContract {
    @TempDir
    Path root;

    @Override
    Store open() throws Exception {
        return FileStore.open(root);
    }

    @Override
    Store reopen(Store store) throws Exception {
        store.close();
        return FileStore.open(root);
    }
}
