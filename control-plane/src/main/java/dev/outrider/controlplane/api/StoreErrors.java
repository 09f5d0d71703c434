package dev.outrider.controlplane.api;

import dev.outrider.controlplane.model.ResourceValidationException;
import dev.outrider.controlplane.server.ApiException;
import dev.outrider.controlplane.store.ConflictException;
import dev.outrider.controlplane.store.StoreTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.UncheckedIOException;
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
        } catch (ConflictException e) {
            throw ApiException.conflict(e.getMessage());
        } catch (ResourceValidationException e) {
            throw switch (e.reason()) {
                case UNSUPPORTED_MEDIA_TYPE -> ApiException.unsupportedMediaType(e.getMessage());
                case INVALID -> e.field() == null ? ApiException.invalid(e.getMessage())
                        : ApiException.invalid(e.field(), e.getMessage());
            };
        } catch (StoreTimeoutException e) {
            log.error("store timeout: {}", e.getCause().getMessage());
            throw ApiException.unavailable("the store did not confirm the write in time; it may still be applied:"
                    + " read the resource before you retry");
        } catch (UncheckedIOException e) {
            log.error("store failure: {}", e.getMessage(), e);
            throw ApiException.unavailable("the control plane cannot write to its store now; retry later");
        } catch (IllegalStateException e) {
            if (e.getMessage() != null && e.getMessage().contains("closed")) {
                throw ApiException.unavailable("the control plane is shutting down");
            }
            throw e;
        }
    }
}
