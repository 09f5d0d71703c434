package dev.outrider.core.identity;

import dev.outrider.core.client.X509Checks;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.pem.Pem;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * What the workload's certificate files are good for at one instant, a pure function of the files' content and
 * the time: {@link State#FRESH} (use them, renew later), {@link State#AGING} (still valid, past half-life: renew
 * now, authenticating with them) or {@link State#UNUSABLE} (absent, unreadable, not matching the key, for another
 * identity, not chaining to the bundle, not yet or no longer valid: a join token is needed).
 *
 * @param notBefore null when unusable
 * @param notAfter  null when unusable
 * @param problem   why unusable; null otherwise
 */
record CertificateStatus(State state, Instant notBefore, Instant notAfter, String problem) {
    enum State { FRESH, AGING, UNUSABLE }

    CertificateStatus {
        requireNonNull(state, "state");
    }

    /** Half-way between notBefore and notAfter: when a certificate is renewed (docs/control-plane.md "Certificates"). */
    static Instant halfLife(Instant notBefore, Instant notAfter) {
        return notBefore.plus(Duration.between(notBefore, notAfter).dividedBy(2));
    }

    Instant halfLife() {
        return halfLife(notBefore, notAfter);
    }

    /** The files' status at {@code now}. Reads the certificate before the key (see {@link CertificateInstaller}). */
    static CertificateStatus of(CertificateFiles files, SpiffeId identity, Instant now) {
        List<X509Certificate> chain;
        PrivateKey key;
        List<X509Certificate> roots;
        try {
            chain = Pem.certificates(Files.readAllBytes(files.certificate()));
            key = Pem.privateKey(Files.readAllBytes(files.privateKey()));
            roots = Pem.certificates(Files.readAllBytes(files.trustBundle()));
        } catch (NoSuchFileException e) {
            return unusable("no " + e.getFile());
        } catch (IOException | CertificateException e) {
            return unusable("unreadable: " + e.getMessage());
        }
        X509Certificate leaf = chain.getFirst();
        Instant notBefore = leaf.getNotBefore().toInstant();
        Instant notAfter = leaf.getNotAfter().toInstant();
        if (!Pem.matches(key, leaf.getPublicKey())) {
            return unusable("the key in " + files.privateKey() + " does not match the certificate");
        }
        if (now.isBefore(notBefore) || !now.isBefore(notAfter)) {
            return unusable("the certificate is valid from " + notBefore + " to " + notAfter + ", not at " + now);
        }
        try {
            SpiffeId actual = X509Checks.spiffeId(leaf);
            if (!actual.equals(identity)) {
                return unusable("the certificate is for " + actual + ", this workload is " + identity);
            }
            X509Checks.validatePath(chain, roots, now);
        } catch (CertificateException e) {
            return unusable(e.getMessage());
        }
        State state = now.isBefore(halfLife(notBefore, notAfter)) ? State.FRESH : State.AGING;
        return new CertificateStatus(state, notBefore, notAfter, null);
    }

    private static CertificateStatus unusable(String problem) {
        return new CertificateStatus(State.UNUSABLE, null, null, problem);
    }
}
