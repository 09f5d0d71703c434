package dev.outrider.core.client;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpTimeoutException;

/**
 * A call to the control plane that did not succeed, in one of two forms:
 * <ul>
 *   <li>the server answered with an error: {@link #status()} is its HTTP status, {@link #reason()},
 *       {@link #serverMessage()} and {@link #field()} come from its JSON error body
 *       ({@code {"status", "reason", "message", "field"}}, docs/control-plane.md "Errors");</li>
 *   <li>no usable answer ({@link #unreachable()}): connection refused or reset, timeout, TLS handshake refused
 *       (for example the server's identity is not the expected one), or a response that is not what the
 *       contract says; {@link #status()} is then 0, or the HTTP status of the malformed answer.</li>
 * </ul>
 * {@link #retryable()} says whether the same call may succeed later without anyone changing anything: network
 * failures, 429, 5xx. Messages never contain tokens or keys.
 */
public final class ControlPlaneException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    /** The reason of failures without a server error body. */
    public static final String UNREACHABLE = "Unreachable";
    public static final String BAD_RESPONSE = "BadResponse";

    private final int status;
    private final String reason;
    private final String serverMessage;
    private final String field;
    private final boolean unreachable;
    private final boolean refused;

    private ControlPlaneException(String message, int status, String reason, String serverMessage, String field,
                                  boolean unreachable, boolean refused, Throwable cause) {
        super(message, cause);
        this.status = status;
        this.reason = reason;
        this.serverMessage = serverMessage;
        this.field = field;
        this.unreachable = unreachable;
        this.refused = refused;
    }

    /** An error the server answered with (its JSON body, or what could be made of the status). */
    public static ControlPlaneException server(String call, int status, String reason, String message, String field) {
        String r = reason == null || reason.isBlank() ? reasonOf(status) : reason;
        String m = message == null ? "" : message;
        String text = call + ": " + status + " " + r + (field == null ? "" : ": " + field) + (m.isEmpty() ? "" : ": " + m);
        return new ControlPlaneException(text, status, r, m, field, false, false, null);
    }

    /** No answer: the connection, TLS or the timeout failed. */
    public static ControlPlaneException unreachable(String call, URI server, Throwable cause) {
        String what = switch (cause) {
            case ConnectException _ -> "connection refused or unreachable";
            case HttpTimeoutException _ -> "timed out";
            case SSLException _ -> "TLS handshake failed";
            default -> cause.getClass().getSimpleName();
        };
        String detail = cause.getMessage() == null ? "" : " (" + cause.getMessage() + ")";
        return new ControlPlaneException(call + ": control plane " + server + " unreachable: " + what + detail,
                0, UNREACHABLE, what + detail, null, true, isRefusal(cause), cause);
    }

    /** An answer that does not follow the contract (wrong status, unreadable body). */
    public static ControlPlaneException badResponse(String call, int status, String problem) {
        return new ControlPlaneException(call + ": unexpected answer from the control plane (HTTP " + status + "): "
                + problem, status, BAD_RESPONSE, problem, null, true, false, null);
    }

    /** The HTTP status; 0 when there was no answer. */
    public int status() {
        return status;
    }

    /** The server's reason ({@code Invalid}, {@code Forbidden}, ...) or {@link #UNREACHABLE} / {@link #BAD_RESPONSE}. */
    public String reason() {
        return reason;
    }

    /** The server's {@code message} (or what went wrong on the way), without the call and status. */
    public String serverMessage() {
        return serverMessage;
    }

    /** The field at fault, e.g. {@code spec.rules[0].to[0].operation.methods[1]}; null when none. */
    public String field() {
        return field;
    }

    /** True when there was no (usable) answer from the server. */
    public boolean unreachable() {
        return unreachable;
    }

    /**
     * True when the connection was refused (nothing listens: the control plane is restarting, or not started yet)
     * or reset or closed by the peer before an answer; false for timeouts (also connect timeouts), TLS failures the
     * peer names with an alert and every answer. Retries after a refusal wait at most {@link Backoff#REFUSED_MAX}.
     */
    public boolean refused() {
        return refused;
    }

    /** {@code failure} is a {@link ControlPlaneException} that is {@link #refused()}. */
    public static boolean refused(Throwable failure) {
        return failure instanceof ControlPlaneException e && e.refused();
    }

    /**
     * Whether the HTTP client's failure is a refused or reset connection: a {@link ConnectException} (the JDK's
     * connect timeout is an {@link HttpTimeoutException}, not one of these), a {@link SocketException}
     * "Connection reset" anywhere in the causes, or a TLS handshake the peer ended without an alert (the JDK's
     * {@value #PEER_ENDED_HANDSHAKE}: it reports a reset during the handshake that way too, as it does a listener
     * closing connections while it stops). A handshake the peer refused with an alert is no refusal.
     */
    static final String PEER_ENDED_HANDSHAKE = "Remote host terminated the handshake";

    static boolean isRefusal(Throwable cause) {
        if (cause instanceof ConnectException) {
            return true;
        }
        Throwable t = cause;
        for (int depth = 0; t != null && depth < 8 && !(t instanceof HttpTimeoutException); depth++, t = t.getCause()) {
            if (t instanceof SocketException && t.getMessage() != null && t.getMessage().startsWith("Connection reset")) {
                return true;
            }
            if (t instanceof SSLHandshakeException && PEER_ENDED_HANDSHAKE.equals(t.getMessage())) {
                return true;
            }
        }
        return false;
    }

    /** True when trying again later may succeed: no answer, 408, 429 or a 5xx. */
    public boolean retryable() {
        return unreachable || status == 408 || status == 429 || status >= 500;
    }

    /** The reason the contract gives a status, for error bodies that lack one. */
    static String reasonOf(int status) {
        String reason = ApiReasons.of(status);
        return reason == null ? "HTTP" + status : reason;
    }
}
