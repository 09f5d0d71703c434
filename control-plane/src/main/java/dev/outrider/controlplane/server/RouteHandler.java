package dev.outrider.controlplane.server;

import java.util.concurrent.CompletionStage;

/**
 * Answers one route. Called on the connection's event loop: it must not block. Work that blocks (disk
 * writes with fsync, CA signing) is registered as a {@link BlockingHandler} instead, which the router runs on
 * the worker executor; a held request (long poll) returns a stage that some later event completes, and
 * costs no thread meanwhile. Refusals are {@link ApiException}s, thrown or as the stage's failure.
 */
@FunctionalInterface
public interface RouteHandler {
    CompletionStage<ApiResponse> handle(ApiRequest request);

    /** A handler that may block; runs on the worker executor, never on an event loop. */
    @FunctionalInterface
    interface BlockingHandler {
        ApiResponse handle(ApiRequest request);
    }
}
