package dev.outrider.proxy.upstream;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.Locale;

/**
 * The TLS handshake the sidecar originated to an external server failed: the request fails (503 naming the entry
 * and the reason), it never falls back to plaintext. {@link #reason()} is the metric's reason.
 */
public final class OriginatedTlsException extends Exception {
    /** Why, as the {@code reason} tag of {@code outrider_egress_tls_failures_total}. */
    public enum Reason {
        /** The server's chain does not lead to the entry's CA bundle (or the default trust store). */
        UNTRUSTED,
        /** The server's certificate does not name the SNI host. */
        NAME_MISMATCH,
        /** Expired or not yet valid. */
        EXPIRED,
        /** Anything else: version, cipher, a malformed message, a timeout, a close during the handshake. */
        HANDSHAKE;

        private final String tag = name().toLowerCase(Locale.ROOT);

        public String tag() {
            return tag;
        }

        /** The reason in {@code cause}'s chain, from the exception types, else the TLS stack's message. */
        static Reason of(Throwable cause) {
            for (Throwable t = cause; t != null; t = t.getCause()) {
                if (t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException) {
                    return EXPIRED;
                }
                if (t instanceof CertPathValidatorException || t instanceof CertPathBuilderException) {
                    return UNTRUSTED;
                }
            }
            for (Throwable t = cause; t != null; t = t.getCause()) {
                String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
                if (m.contains("subject alternative") || m.contains("no name matching") || m.contains("hostname")
                        || m.contains("host name")) {
                    return NAME_MISMATCH;
                }
                if (m.contains("pkix") || m.contains("unable to find valid certification path")
                        || m.contains("unknown_ca") || m.contains("unable to get local issuer")
                        || m.contains("self signed") || m.contains("self-signed")) {
                    return UNTRUSTED;
                }
                if (m.contains("expired")) {
                    return EXPIRED;
                }
            }
            return HANDSHAKE;
        }
    }

    private final Reason reason;

    OriginatedTlsException(OriginatedTls tls, Reason reason, Throwable cause) {
        super("TLS to " + tls.service() + " failed: " + describe(reason, tls.sni()), cause);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }

    private static String describe(Reason reason, String sni) {
        return switch (reason) {
            case UNTRUSTED -> "the server's certificate is not issued by a trusted CA (spec.tls.caCertificates, else"
                    + " the system trust store)";
            case NAME_MISMATCH -> "the server's certificate does not name " + sni;
            case EXPIRED -> "the server's certificate is expired or not yet valid";
            case HANDSHAKE -> "handshake failed";
        };
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // a property of the peer, not of the code path
    }
}
