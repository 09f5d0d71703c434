package dev.outrider.proxy.forward;

import io.netty.handler.codec.http.HttpResponseStatus;

import static java.util.Objects.requireNonNull;

/** Answer locally with {@code status} and a message that names the problem (e.g. the unknown service). */
public record NoRoute(HttpResponseStatus status, String message) implements RouteResult {
    public NoRoute {
        requireNonNull(status, "status");
        requireNonNull(message, "message");
    }
}
