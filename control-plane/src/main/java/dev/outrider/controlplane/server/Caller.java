package dev.outrider.controlplane.server;

import dev.outrider.controlplane.ca.BootstrapCredential;
import dev.outrider.controlplane.ca.WorkloadIdentity;

import static java.util.Objects.requireNonNull;

/**
 * Who sent a request, as {@link Authenticator} derived it from the verified client certificate or the
 * {@code Authorization: Bearer} header (docs/control-plane.md "Who may do what"). Immutable; never holds
 * more of a credential than the route that uses it needs, and never shows it in {@code toString}.
 */
public sealed interface Caller {

    /** No usable proof; {@code why} says what was missing or refused (it is the 401 message). */
    record Anonymous(String why) implements Caller {
        public Anonymous {
            requireNonNull(why, "why");
        }
    }

    /**
     * An administrator: a client certificate with an {@code --admin-identity}, or the development admin token.
     *
     * @param certificateIdentity the certificate's workload identity when it proved one (so an admin can renew
     *                            its own certificate), else null
     */
    record Admin(WorkloadIdentity certificateIdentity, String proof) implements Caller {
        /** The {@code proof} of an admin who presented the development admin token. */
        public static final String TOKEN = "admin token";

        public Admin {
            requireNonNull(proof, "proof");
        }

        /** True when the admin token proved it; otherwise the proof is the certificate's admin identity. */
        public boolean byToken() {
            return proof.equals(TOKEN);
        }
    }

    /** A sidecar with a certificate {@code spiffe://<td>/ns/N/sa/S} issued by the mesh CA. */
    record Workload(WorkloadIdentity identity) implements Caller {
        public Workload {
            requireNonNull(identity, "identity");
        }
    }

    /**
     * A bearer token that is not the admin token: perhaps a join token or a Kubernetes service-account token
     * ({@link BootstrapCredential#fromBearer} tells which). Not verified yet, because verifying spends a join
     * token; only {@code POST /v1/certificates} does that.
     */
    record Bearer(BootstrapCredential credential) implements Caller {
        public Bearer {
            requireNonNull(credential, "credential");
        }

        @Override
        public String toString() {
            return "Bearer[redacted]";
        }
    }

    /** How the caller appears in a log line: an identity or a kind of proof, never a secret. */
    default String describe() {
        return switch (this) {
            case Anonymous a -> "anonymous";
            case Admin a -> "admin (" + a.proof() + ")";
            case Workload w -> w.identity().toString();
            case Bearer b -> b.credential().kind();
        };
    }
}
