package dev.outrider.controlplane.store;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A write the store did not confirm in time: it was neither refused nor acknowledged, and may still be applied
 * (an etcd proposal waiting for its quorum). The API answers 503 and says so, so the caller reads before retrying.
 */
public final class StoreTimeoutException extends UncheckedIOException {
    public StoreTimeoutException(String message) {
        super(new IOException(message));
    }
}
