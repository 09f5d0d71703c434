package dev.outrider.controlplane.server;

import io.netty.handler.codec.http.HttpMethod;

import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * One authenticated, routed request as a route handler sees it: no Netty buffers (the body was copied and
 * the request released on the event loop), so a handler may run on any thread. Immutable by convention:
 * nobody writes to {@link #body()} (not copied again, for the 1 MiB case).
 *
 * @param params       the route's path parameters ({@code {ns}} → value), percent-decoded
 * @param query        the query parameters, percent-decoded
 * @param contentType  the {@code Content-Type} header, or null
 * @param body         the request body; empty when there was none
 * @param source       the peer's address ({@code 127.0.0.1:50432}, {@code [::1]:50432}), or null when unknown
 */
public record ApiRequest(HttpMethod method, String path, Map<String, String> params,
                         Map<String, List<String>> query, String contentType, byte[] body, Caller caller,
                         String source) {
    public ApiRequest {
        requireNonNull(method, "method");
        requireNonNull(path, "path");
        params = Map.copyOf(params);
        query = Map.copyOf(query);
        requireNonNull(body, "body");
        requireNonNull(caller, "caller");
    }

    /** The path parameter {@code name}; the route pattern guarantees it exists. */
    public String param(String name) {
        String value = params.get(name);
        if (value == null) {
            throw new IllegalArgumentException("route has no parameter {" + name + "}");
        }
        return value;
    }

    /** The first value of query parameter {@code name}, or null. */
    public String queryParam(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.getFirst();
    }

    @Override
    public String toString() {
        return "ApiRequest[" + method + " " + path + ", " + body.length + " bytes, " + caller.describe() + "]";
    }
}
