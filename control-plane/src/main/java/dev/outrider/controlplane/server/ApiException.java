package dev.outrider.controlplane.server;

import dev.outrider.core.client.ApiReasons;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * A request the API refuses, with everything its JSON error body says (docs/control-plane.md "Errors"):
 * {@code {"status": 400, "reason": "Invalid", "message": "...", "field": "..."}}, {@code field} only when one
 * field is at fault. Messages are shown to the caller: they never hold a credential, a key or a stack trace.
 *
 * <p>Unchecked so route handlers and completion stages can throw it as they are; built only through the
 * factory methods, without a stack trace (a refusal is an answer, not a bug).
 */
public final class ApiException extends RuntimeException {
    private final HttpResponseStatus status;
    private final String field;
    private final Map<String, String> headers;

    private ApiException(HttpResponseStatus status, String message, String field) {
        this(status, message, field, Map.of());
    }

    private ApiException(HttpResponseStatus status, String message, String field, Map<String, String> headers) {
        super(requireNonNull(message, "message"), null, false, false);
        this.status = requireNonNull(status, "status");
        this.field = field;
        this.headers = Map.copyOf(headers);
    }

    public static ApiException invalid(String message) {
        return new ApiException(HttpResponseStatus.BAD_REQUEST, message, null);
    }

    /** 400 naming the one field at fault ({@code spec.rules[0].to[0]} style paths). */
    public static ApiException invalid(String field, String message) {
        return new ApiException(HttpResponseStatus.BAD_REQUEST, message, requireNonNull(field, "field"));
    }

    public static ApiException unauthenticated(String message) {
        return new ApiException(HttpResponseStatus.UNAUTHORIZED, message, null);
    }

    public static ApiException forbidden(String message) {
        return new ApiException(HttpResponseStatus.FORBIDDEN, message, null);
    }

    public static ApiException notFound(String message) {
        return new ApiException(HttpResponseStatus.NOT_FOUND, message, null);
    }

    /** 405 with the {@code Allow} header listing the methods the path does accept (RFC 9110 §15.5.6). */
    public static ApiException methodNotAllowed(String message, String allow) {
        return new ApiException(HttpResponseStatus.METHOD_NOT_ALLOWED, message, null,
                Map.of("Allow", requireNonNull(allow, "allow")));
    }

    public static ApiException conflict(String message) {
        return new ApiException(HttpResponseStatus.CONFLICT, message, null);
    }

    public static ApiException tooLarge(String message) {
        return new ApiException(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, message, null);
    }

    /** 431: the request's header block is over the limit (RFC 6585 §5). */
    public static ApiException headersTooLarge(String message) {
        return new ApiException(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, message, null);
    }

    /** 414: the request line (in practice the target) is over the limit (RFC 9110 §15.5.15). */
    public static ApiException uriTooLong(String message) {
        return new ApiException(HttpResponseStatus.REQUEST_URI_TOO_LONG, message, null);
    }

    public static ApiException unsupportedMediaType(String message) {
        return new ApiException(HttpResponseStatus.UNSUPPORTED_MEDIA_TYPE, message, null);
    }

    public static ApiException internal(String message) {
        return new ApiException(HttpResponseStatus.INTERNAL_SERVER_ERROR, message, null);
    }

    public static ApiException unavailable(String message) {
        return new ApiException(HttpResponseStatus.SERVICE_UNAVAILABLE, message, null);
    }

    public HttpResponseStatus status() {
        return status;
    }

    /** The field at fault, or null. */
    public String field() {
        return field;
    }

    /** Headers the error response carries besides the body. */
    public Map<String, String> headers() {
        return headers;
    }

    /** The error body's {@code reason}: one word per status, as docs/control-plane.md lists them. */
    public String reason() {
        return reason(status.code());
    }

    static String reason(int code) {
        String reason = ApiReasons.of(code);
        return reason == null ? "Internal" : reason;
    }
}
