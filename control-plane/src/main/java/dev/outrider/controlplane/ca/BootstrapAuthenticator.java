package dev.outrider.controlplane.ca;

/**
 * Turns a presented {@link BootstrapCredential} into the identity it proves, or refuses it with a
 * {@link CaException} of reason {@link CaException.Reason#UNAUTHENTICATED}. The CA signs for the returned
 * identity only. Implementations are thread-safe; a refusal's message never contains the credential.
 */
public interface BootstrapAuthenticator {
    WorkloadIdentity authenticate(BootstrapCredential credential) throws CaException;
}
