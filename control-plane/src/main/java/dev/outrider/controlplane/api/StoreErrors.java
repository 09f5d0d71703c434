package dev.outrider.controlplane.api;

import dev.outrider.controlplane.model.ResourceValidationException;
import dev.outrider.controlplane.server.ApiException;
import dev.outrider.controlplane.store.ConflictException;
import dev.outrider.controlplane.store.StoreTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

/**
 * Runs a store operation for a route and turns what the store and the document validators refuse into the
 * documented answers: {@link ConflictException} → 409, {@link ResourceValidationException} → 400 with the field
 * or 415, a storage failure ({@link UncheckedIOException}) or a closed store → 503 (logged; the message to the
 * caller names no path), a write whose outcome is unknown ({@link StoreTimeoutException}) → 503 saying so.
 */
final class StoreErrors {
    private static final Logger log = LoggerFactory.getLogger(StoreErrors.class);

    private StoreErrors() {
    }

    static <T> T call(Supplier<T> operation) {
        try {
            return operation.get();
        } catch (RuntimeException e) {
            throw translate(e);
        }
    }

    /** The answer to a store operation that failed with {@code failure} (of a future: its cause is taken). */
    static RuntimeException translate(Throwable failure) {
        Throwable e = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (e instanceof ConflictException c) {
            return ApiException.conflict(c.getMessage());
        }
        if (e instanceof ResourceValidationException v) {
            return switch (v.reason()) {
                case UNSUPPORTED_MEDIA_TYPE -> ApiException.unsupportedMediaType(v.getMessage());
                case INVALID -> v.field() == null ? ApiException.invalid(v.getMessage())
                        : ApiException.invalid(v.field(), v.getMessage());
            };
        }
        if (e instanceof StoreTimeoutException t) {
            log.error("store timeout: {}", t.getCause().getMessage());
            return ApiException.unavailable("the store did not confirm the write in time; it may still be applied:"
                    + " read the resource before you retry");
        }
        if (e instanceof UncheckedIOException io) {
            log.error("store failure: {}", io.getMessage(), io);
            return ApiException.unavailable("the control plane cannot write to its store now; retry later");
        }
        if (e instanceof IllegalStateException s && s.getMessage() != null && s.getMessage().contains("closed")) {
            return ApiException.unavailable("the control plane is shutting down");
        }
        return e instanceof RuntimeException r ? r : new CompletionException(e);
    }
}
