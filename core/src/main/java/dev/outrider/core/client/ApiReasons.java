package dev.outrider.core.client;

/**
 * The {@code reason} word of the control plane's error bodies, one per status, as docs/control-plane.md lists
 * them: the server writes it, the client fills it in for an error body that lacks one. Pure function.
 */
public final class ApiReasons {
    private ApiReasons() {
    }

    /** The contract's reason for {@code status}, or {@code null} when the contract names none. */
    public static String of(int status) {
        return switch (status) {
            case 400 -> "Invalid";
            case 401 -> "Unauthenticated";
            case 403 -> "Forbidden";
            case 404 -> "NotFound";
            case 405 -> "MethodNotAllowed";
            case 409 -> "Conflict";
            case 413 -> "TooLarge";
            case 414 -> "UriTooLong";
            case 415 -> "UnsupportedMediaType";
            case 431 -> "HeadersTooLarge";
            case 500 -> "Internal";
            case 503 -> "Unavailable";
            default -> null;
        };
    }
}
