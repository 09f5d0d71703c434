package dev.outrider.controlplane.store;

import java.util.List;
import java.util.Optional;

/**
 * Reads of resources: of a {@link Store} as it is now, or of an etcd store as it was at one revision
 * ({@link EtcdStore#at}), so that what is compiled from several reads is one consistent state.
 */
public interface StoreReader {
    Optional<StoredResource> get(ResourceKey key);

    /** Resources of {@code kind}, in one namespace or in all when {@code namespaceOrNull} is null, ordered by key. */
    List<StoredResource> list(String kind, String namespaceOrNull);
}
