package dev.outrider.controlplane.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.LinkedHashMap;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * What a route answers: status, body with its content type, and extra headers. Turned into a Netty response
 * by {@link ApiHandler} on the connection's event loop. Immutable by convention (the body is not copied).
 *
 * @param contentType null exactly when the body is empty
 */
public record ApiResponse(HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {
    public static final String JSON = "application/json";

    public ApiResponse {
        requireNonNull(status, "status");
        requireNonNull(body, "body");
        headers = Map.copyOf(headers);
        if ((contentType == null) != (body.length == 0)) {
            throw new IllegalArgumentException("a content type goes with a body, and only with one");
        }
    }

    /** {@code value} as JSON (Jackson: records, maps, lists, {@code JsonNode}s). */
    public static ApiResponse json(HttpResponseStatus status, Object value) {
        return new ApiResponse(status, JSON, Json.write(value), Map.of());
    }

    /** Bytes that already are JSON (a stored document, a precomputed JWK Set). */
    public static ApiResponse jsonBytes(HttpResponseStatus status, byte[] json) {
        return new ApiResponse(status, JSON, json, Map.of());
    }

    /** A response without a body (204, 304). */
    public static ApiResponse empty(HttpResponseStatus status) {
        return new ApiResponse(status, null, new byte[0], Map.of());
    }

    /**
     * The documented error body: {@code {"status", "reason", "message"[, "field"]}}. A 401 also carries
     * {@code WWW-Authenticate} (RFC 9110 §15.5.2; the scheme of RFC 6750 §3).
     */
    public static ApiResponse error(ApiException e) {
        ObjectNode body = Json.MAPPER.createObjectNode()
                .put("status", e.status().code())
                .put("reason", e.reason())
                .put("message", e.getMessage());
        if (e.field() != null) {
            body.put("field", e.field());
        }
        Map<String, String> headers = new LinkedHashMap<>(e.headers());
        if (e.status().code() == 401) {
            headers.put("WWW-Authenticate", "Bearer realm=\"outrider\"");
        }
        return new ApiResponse(e.status(), JSON, Json.write(body), headers);
    }

    public ApiResponse withHeader(String name, String value) {
        Map<String, String> copy = new LinkedHashMap<>(headers);
        copy.put(requireNonNull(name, "name"), requireNonNull(value, "value"));
        return new ApiResponse(status, contentType, body, copy);
    }

    @Override
    public String toString() {
        return "ApiResponse[" + status.code() + ", " + body.length + " bytes]";
    }
}
