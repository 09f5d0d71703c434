package dev.outrider.controlplane.ca;

/**
 * Turns a presented {@link BootstrapCredential} into the identity it proves, or refuses it with a
 * {@link CaException} of reason {@link CaException.Reason#UNAUTHENTICATED}. The CA signs for the returned
 * identity only. Implementations are thread-safe; a refusal's message never contains the credential.
 *
 * <p>Two steps, so that a request that fails for any other reason (an unreadable CSR, a CSR naming another
 * identity, a CA that cannot sign) costs no single-use credential: {@link #authenticate} checks and spends
 * nothing; {@link #spend} is called last, once the certificate is signed, and is the one atomic step that lets
 * exactly one of several concurrent presentations through.
 */
public interface BootstrapAuthenticator {
    /** The identity {@code credential} proves now; spends nothing. */
    WorkloadIdentity authenticate(BootstrapCredential credential) throws CaException;

    /**
     * Spends {@code credential} if it is single use (atomically: of concurrent calls at most one returns), after
     * checking it again; refuses it as {@link #authenticate} would, or as already used. Reusable credentials
     * (service-account tokens, reusable join tokens) are only checked again, or not at all.
     */
    default void spend(BootstrapCredential credential) throws CaException {
    }
}
