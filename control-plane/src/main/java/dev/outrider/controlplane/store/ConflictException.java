package dev.outrider.controlplane.store;

import static java.util.Objects.requireNonNull;

/**
 * A write's expected version did not match the stored one (optimistic concurrency); the API answers
 * 409 Conflict. Versions use the {@link Store} convention: 0 means "does not exist".
 */
public final class ConflictException extends RuntimeException {
    private final ResourceKey key;
    private final long expectedVersion;
    private final long actualVersion;

    private ConflictException(ResourceKey key, long expectedVersion, long actualVersion, String message) {
        super(message);
        this.key = key;
        this.expectedVersion = expectedVersion;
        this.actualVersion = actualVersion;
    }

    /** Builds the exception with a message naming the key, the expected and the actual state. */
    public static ConflictException of(ResourceKey key, long expectedVersion, long actualVersion) {
        requireNonNull(key, "key");
        String expected = expectedVersion == 0 ? "expected it not to exist" : "expected version " + expectedVersion;
        String actual = actualVersion == 0 ? "but it does not exist" : "but it is at version " + actualVersion;
        return new ConflictException(key, expectedVersion, actualVersion,
                "conflict on " + key + ": " + expected + ", " + actual);
    }

    public ResourceKey key() {
        return key;
    }

    /** The version the caller expected; 0 when it expected the resource not to exist. */
    public long expectedVersion() {
        return expectedVersion;
    }

    /** The stored version; 0 when the resource does not exist. */
    public long actualVersion() {
        return actualVersion;
    }
}
