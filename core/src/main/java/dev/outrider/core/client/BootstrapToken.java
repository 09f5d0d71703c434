package dev.outrider.core.client;

import static java.util.Objects.requireNonNull;

/**
 * The credential a sidecar presents for its first certificate ({@code POST /v1/certificates}), when it has no
 * usable one: a join token from {@code POST /v1/join-tokens}, or on Kubernetes the pod's projected
 * service-account token (a JWT). Both travel as {@code Authorization: Bearer <value>}; the control plane tells
 * them apart by shape (a JWT has {@code '.'}s, a join token none; docs/control-plane.md "Certificates"), so a
 * value of the wrong shape for its kind is refused here, before it is sent.
 *
 * <p>{@link #toString()} leaves the value out, so the record can be logged.
 *
 * @param kind  which credential it is
 * @param value the secret, without surrounding white space
 */
public record BootstrapToken(Kind kind, String value) {

    /** The kinds of bootstrap credential, named as messages name them. */
    public enum Kind {
        JOIN_TOKEN("join token"),
        SERVICE_ACCOUNT_TOKEN("service-account token");

        private final String text;

        Kind(String text) {
            this.text = text;
        }

        /** "join token", "service-account token". */
        public String text() {
            return text;
        }
    }

    /** @throws IllegalArgumentException when the value is empty or not of its kind's shape (the value is not shown) */
    public BootstrapToken {
        requireNonNull(kind, "kind");
        requireNonNull(value, "value");
        if (value.isEmpty() || !value.strip().equals(value)) {
            throw new IllegalArgumentException(kind.text() + " is empty or has surrounding white space");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                throw new IllegalArgumentException(kind.text() + " holds a character that cannot go into an HTTP"
                        + " header (position " + i + ")");
            }
        }
        long dots = value.chars().filter(c -> c == '.').count();
        if (kind == Kind.SERVICE_ACCOUNT_TOKEN && dots != 2) {
            throw new IllegalArgumentException("service-account token is not a JWT (three base64url parts"
                    + " separated by '.')");
        }
        if (kind == Kind.JOIN_TOKEN && dots != 0) {
            throw new IllegalArgumentException("join token holds a '.'; join tokens never do (is it a"
                    + " service-account token?)");
        }
    }

    public static BootstrapToken joinToken(String value) {
        return new BootstrapToken(Kind.JOIN_TOKEN, value);
    }

    public static BootstrapToken serviceAccountToken(String value) {
        return new BootstrapToken(Kind.SERVICE_ACCOUNT_TOKEN, value);
    }

    @Override
    public String toString() {
        return "BootstrapToken[" + kind.text() + ", <redacted>]";
    }
}
