package dev.outrider.core.identity;

import dev.outrider.core.client.IssuedCertificate;
import dev.outrider.core.client.X509Checks;
import dev.outrider.core.files.AtomicFiles;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.pem.Pem;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * Checks an issued certificate and puts it on disk with its key and the trust bundle.
 *
 * <p>Check first, write nothing unless all passes: the chain parses; its leaf holds the public key just generated
 * (so the key file will match it); it carries exactly {@code identity}; it chains to the bundle that came with it;
 * it is valid now.
 *
 * <p>Write order, each file replaced atomically ({@link AtomicFiles}):
 * <pre>
 *   1. trust bundle   new roots first, so the certificate is never on disk without the bundle that verifies it
 *   2. private key    PKCS#8, 0600
 *   3. certificate    last: the commit point of the set
 * </pre>
 * Readers read the certificate before the key (the proxy's {@code TlsMaterial}, the control-plane client,
 * {@link CertificateStatus}). A reader that sees the new certificate therefore also sees the new key (written
 * before it), so it never pairs a new certificate with an old key. A reader that reads between steps 2 and 3 gets
 * the old certificate with the new key: every reader checks that the key matches the certificate and refuses that
 * pair, keeping what it had, and the certificate's arrival changes the files' bytes again, so it reloads. The key
 * is never logged; exceptions name files, not contents.
 */
final class CertificateInstaller {
    private CertificateInstaller() {
    }

    /** @return the installed leaf's validity, as read from the certificate */
    static X509Certificate install(CertificateFiles files, SpiffeId identity, KeyPair keys, IssuedCertificate issued,
                                   Instant now) throws CertificateException, IOException {
        List<X509Certificate> chain = Pem.certificates(issued.certificateChainPem());
        List<X509Certificate> roots;
        try {
            roots = Pem.certificates(issued.trustBundlePem());
        } catch (CertificateException e) {
            throw new CertificateException("issued trust bundle: " + e.getMessage(), e);
        }
        X509Certificate leaf = chain.getFirst();
        if (!leaf.getPublicKey().equals(keys.getPublic())) {
            throw new CertificateException("the issued certificate is not for the key of the request");
        }
        SpiffeId actual = X509Checks.spiffeId(leaf);
        if (!actual.equals(identity)) {
            throw new CertificateException("the issued certificate is for " + actual + ", this workload is " + identity);
        }
        X509Checks.validatePath(chain, roots, now);
        AtomicFiles.write(files.trustBundle(), ascii(issued.trustBundlePem()), AtomicFiles.WORLD_READABLE);
        AtomicFiles.write(files.privateKey(), ascii(Pem.pkcs8(keys.getPrivate())), AtomicFiles.OWNER_ONLY);
        AtomicFiles.write(files.certificate(), ascii(issued.certificateChainPem()), AtomicFiles.WORLD_READABLE);
        return leaf;
    }

    private static byte[] ascii(String pem) {
        return pem.getBytes(StandardCharsets.US_ASCII);
    }
}
