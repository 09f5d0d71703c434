package dev.outrider.proxy.tls;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.pem.Pem;
import dev.outrider.proxy.config.TlsConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * One consistent set of this workload's TLS material: certificate chain, key and trust bundle, read from
 * the configured PEM files and checked together, so that a half-written rotation can never be used.
 *
 * @param fingerprint SHA-256 over the three files' bytes: the reloader compares it to notice changes
 */
public record TlsMaterial(List<X509Certificate> chain, PrivateKey key, List<X509Certificate> roots,
                          SpiffeId identity, String fingerprint) {

    public TlsMaterial {
        chain = List.copyOf(chain);
        requireNonNull(key, "key");
        roots = List.copyOf(roots);
        requireNonNull(identity, "identity");
        requireNonNull(fingerprint, "fingerprint");
    }

    public X509Certificate leaf() {
        return chain.getFirst();
    }

    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    /** Fingerprint of the files as they are now, without parsing them (the reloader's cheap check). */
    static String fingerprint(TlsConfig config) throws IOException {
        return fingerprint(Files.readAllBytes(config.certificate()), Files.readAllBytes(config.privateKey()),
                Files.readAllBytes(config.trustBundle()));
    }

    /**
     * Reads and checks the material: PEM parses; the key matches the certificate (a signature made with
     * the key verifies with the certificate); the certificate is valid now, carries exactly {@code expected}
     * as its one SPIFFE ID, is fit for both client and server authentication, and chains to the bundle.
     */
    public static TlsMaterial load(TlsConfig config, SpiffeId expected) throws TlsMaterialException {
        byte[] certBytes = read(config.certificate(), "tls.certificate");
        byte[] keyBytes = read(config.privateKey(), "tls.privateKey");
        byte[] bundleBytes = read(config.trustBundle(), "tls.trustBundle");
        List<X509Certificate> chain;
        List<X509Certificate> roots;
        PrivateKey key;
        try {
            chain = Pem.certificates(certBytes);
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException("tls.certificate", TlsMaterialException.Reason.BAD_PEM,
                    "not a PEM certificate chain: " + e.getMessage(), e);
        }
        try {
            roots = Pem.certificates(bundleBytes);
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException("tls.trustBundle", TlsMaterialException.Reason.BAD_PEM,
                    "not PEM certificates: " + e.getMessage(), e);
        }
        try {
            key = Pem.privateKey(keyBytes);
        } catch (IOException e) {
            throw new TlsMaterialException("tls.privateKey", TlsMaterialException.Reason.BAD_PEM, e.getMessage(), e);
        }
        X509Certificate leaf = chain.getFirst();
        checkKeyMatches(key, leaf);
        try {
            leaf.checkValidity();
        } catch (CertificateExpiredException e) {
            throw new TlsMaterialException("tls.certificate", TlsMaterialException.Reason.EXPIRED,
                    "expired at " + leaf.getNotAfter().toInstant(), e);
        } catch (CertificateNotYetValidException e) {
            throw new TlsMaterialException("tls.certificate", TlsMaterialException.Reason.NOT_YET_VALID,
                    "not valid before " + leaf.getNotBefore().toInstant(), e);
        }
        PeerVerifier verifier = new PeerVerifier(roots, expected.trustDomain());
        X509Certificate[] array = chain.toArray(new X509Certificate[0]);
        SpiffeId actual;
        try {
            verifier.verify(array, "1.3.6.1.5.5.7.3.1");
            actual = verifier.verify(array, "1.3.6.1.5.5.7.3.2");
        } catch (PeerCertificateException e) {
            TlsMaterialException.Reason reason = switch (e.reason()) {
                case IDENTITY_MISMATCH -> TlsMaterialException.Reason.WRONG_IDENTITY;
                case EXPIRED -> TlsMaterialException.Reason.EXPIRED;
                case NOT_YET_VALID -> TlsMaterialException.Reason.NOT_YET_VALID;
                default -> TlsMaterialException.Reason.UNTRUSTED;
            };
            String field = reason == TlsMaterialException.Reason.UNTRUSTED ? "tls.trustBundle" : "tls.certificate";
            throw new TlsMaterialException(field, reason, e.getMessage(), e);
        }
        if (!actual.equals(expected)) {
            throw new TlsMaterialException("tls.certificate", TlsMaterialException.Reason.WRONG_IDENTITY,
                    "certificate is for " + actual + ", this workload is " + expected
                            + " (node.namespace, node.serviceAccount, node.trustDomain)", null);
        }
        return new TlsMaterial(chain, key, roots, actual, fingerprint(certBytes, keyBytes, bundleBytes));
    }

    private static byte[] read(Path file, String field) throws TlsMaterialException {
        try {
            return Files.readAllBytes(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new TlsMaterialException(field, TlsMaterialException.Reason.UNREADABLE, "no such file '" + file
                    + "' (a development mesh: certs/mesh-ca.sh issue <namespace> <service-account>)", e);
        } catch (IOException e) {
            throw new TlsMaterialException(field, TlsMaterialException.Reason.UNREADABLE,
                    "cannot read '" + file + "': " + e, e);
        }
    }

    private static void checkKeyMatches(PrivateKey key, X509Certificate leaf) throws TlsMaterialException {
        String algorithm = Pem.probeAlgorithm(key);
        if (algorithm == null) {
            throw new TlsMaterialException("tls.privateKey", TlsMaterialException.Reason.BAD_PEM,
                    "unsupported key algorithm " + key.getAlgorithm() + " (ECDSA or RSA)", null);
        }
        try {
            if (!Pem.signsFor(key, leaf.getPublicKey(), algorithm)) {
                throw new TlsMaterialException("tls.privateKey", TlsMaterialException.Reason.KEY_MISMATCH,
                        "the key does not match the certificate", null);
            }
        } catch (GeneralSecurityException e) {
            throw new TlsMaterialException("tls.privateKey", TlsMaterialException.Reason.KEY_MISMATCH,
                    "the key does not match the certificate (" + e.getMessage() + ")", e);
        }
    }

    private static String fingerprint(byte[]... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                sha.update(p);
                sha.update((byte) 0);
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }
}
