package dev.outrider.core.client;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.pem.Pem;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * The TLS material of a {@link ControlPlaneClient}, read from PEM files: the trust bundle (required) and,
 * optionally, a client certificate and key. {@link #load} reads the files' bytes every time and builds new
 * {@link SSLContext}s only when the bytes differ from the last load, so a certificate renewed on disk (by
 * {@code WorkloadCertificates}, or a mounted secret being swapped) is used for the next connection.
 *
 * <p>A client certificate that is missing, unreadable, expired or does not match its key is not an error: the
 * client then connects without one (a new sidecar has none yet) and {@link Material#clientProblem()} says why.
 * TLS 1.3 only, as the control plane serves it.
 *
 * <p>Immutable; {@link #load} shares no state and may run on any thread.
 */
final class ClientTls {
    /** Protects the in-memory key store only; never written anywhere. */
    private static final char[] IN_MEMORY = "outrider-in-memory".toCharArray();
    static final String PROTOCOL = "TLSv1.3";

    private final Path trustBundle;
    private final Path certificate;
    private final Path privateKey;
    private final SpiffeId serverIdentity;

    /** {@code certificate} and {@code privateKey} both null (no client certificate) or both set. */
    ClientTls(Path trustBundle, Path certificate, Path privateKey, SpiffeId serverIdentity) {
        this.trustBundle = requireNonNull(trustBundle, "trustBundle");
        if ((certificate == null) != (privateKey == null)) {
            throw new IllegalArgumentException("a client certificate needs its private key and the reverse");
        }
        this.certificate = certificate;
        this.privateKey = privateKey;
        this.serverIdentity = requireNonNull(serverIdentity, "serverIdentity");
    }

    /**
     * Contexts built from the files as they are now.
     *
     * @param mutual         presents the client certificate; null when there is no usable one
     * @param anonymous      presents none (join-token requests, and when there is no client certificate)
     * @param clientNotAfter the client certificate's expiry; null without one
     * @param clientProblem  why there is no client certificate; null when there is one or none was configured
     * @param fingerprint    SHA-256 over the files' bytes (not secret by itself, but never logged)
     */
    record Material(SSLContext mutual, SSLContext anonymous, Instant clientNotAfter, String clientProblem,
                    byte[] fingerprint) {
    }

    /**
     * Reads the files; returns null when their bytes are those {@code previous} was built from, or those of
     * {@code refused} (a fingerprint the caller decided not to use; null for none).
     *
     * @throws IOException              when the trust bundle cannot be read
     * @throws GeneralSecurityException when the trust bundle holds no usable certificate
     */
    Material load(Material previous, byte[] refused, Instant now) throws IOException, GeneralSecurityException {
        byte[] bundleBytes = Files.readAllBytes(trustBundle);
        byte[] certBytes = certificate == null ? null : readOrNull(certificate);
        byte[] keyBytes = privateKey == null ? null : readOrNull(privateKey);
        byte[] fingerprint = fingerprint(bundleBytes, certBytes, keyBytes);
        if ((previous != null && MessageDigest.isEqual(previous.fingerprint(), fingerprint))
                || (refused != null && MessageDigest.isEqual(refused, fingerprint))) {
            return null;
        }
        List<X509Certificate> roots;
        try {
            roots = Pem.certificates(bundleBytes);
        } catch (CertificateException e) {
            throw new CertificateException("trust bundle " + trustBundle + ": " + e.getMessage(), e);
        }
        TrustManager[] trust = {trustManager(roots, serverIdentity)};
        SSLContext anonymous = SSLContext.getInstance(PROTOCOL);
        anonymous.init(null, trust, null);
        if (certificate == null) {
            return new Material(null, anonymous, null, null, fingerprint);
        }
        if (certBytes == null || keyBytes == null) {
            return new Material(null, anonymous, null, "no client certificate yet (" + (certBytes == null
                    ? certificate : privateKey) + " does not exist)", fingerprint);
        }
        List<X509Certificate> chain;
        PrivateKey key;
        try {
            chain = Pem.certificates(certBytes);
            key = Pem.privateKey(keyBytes);
        } catch (CertificateException | IOException e) {
            return new Material(null, anonymous, null, "client certificate " + certificate + " or key "
                    + privateKey + " unreadable: " + e.getMessage(), fingerprint);
        }
        X509Certificate leaf = chain.getFirst();
        Instant notAfter = leaf.getNotAfter().toInstant();
        if (!Pem.matches(key, leaf.getPublicKey())) {
            return new Material(null, anonymous, null, "client key " + privateKey + " does not match certificate "
                    + certificate, fingerprint);
        }
        if (!now.isBefore(notAfter)) {
            return new Material(null, anonymous, null, "client certificate " + certificate + " expired at "
                    + notAfter, fingerprint);
        }
        SSLContext mutual = SSLContext.getInstance(PROTOCOL);
        mutual.init(keyManagers(chain, key), trust, null);
        return new Material(mutual, anonymous, notAfter, null, fingerprint);
    }

    /** PKIX over {@code roots}, then the SPIFFE identity check. */
    static TrustManager trustManager(List<X509Certificate> roots, SpiffeId serverIdentity)
            throws GeneralSecurityException {
        KeyStore store = emptyStore();
        for (int i = 0; i < roots.size(); i++) {
            store.setCertificateEntry("root-" + i, roots.get(i));
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        for (TrustManager tm : factory.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager pkix) {
                return new SpiffeServerTrustManager(pkix, serverIdentity);
            }
        }
        throw new GeneralSecurityException("the JDK's PKIX trust manager factory gave no X509ExtendedTrustManager");
    }

    static KeyManager[] keyManagers(List<X509Certificate> chain, PrivateKey key) throws GeneralSecurityException {
        KeyStore store = emptyStore();
        store.setKeyEntry("workload", key, IN_MEMORY, chain.toArray(new X509Certificate[0]));
        KeyManagerFactory factory = KeyManagerFactory.getInstance("PKIX");
        factory.init(store, IN_MEMORY);
        return factory.getKeyManagers();
    }

    private static KeyStore emptyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException("empty key store", e);
        }
        return store;
    }

    private static byte[] readOrNull(Path file) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    private static byte[] fingerprint(byte[]... parts) throws GeneralSecurityException {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (byte[] p : parts) {
            // The length first, so that no two different sets of files hash the same input; -1: absent.
            sha.update(ByteBuffer.allocate(Integer.BYTES).putInt(p == null ? -1 : p.length).flip());
            if (p != null) {
                sha.update(p);
            }
        }
        return sha.digest();
    }
}
