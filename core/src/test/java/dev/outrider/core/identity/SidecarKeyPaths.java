package dev.outrider.core.identity;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.pem.Pem;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * What the sidecar does with PEM and keys, as a program of its own for {@link SidecarClassLoadingTest} to run in
 * a fresh JVM: reads a certificate chain and each key file given (static files mode), writes them back as PEM,
 * and makes a key and its CSR (control-plane mode, at start and at each renewal). Arguments: the certificate
 * file, then key files. Prints one line per step; a failure exits non-zero with its stack trace.
 */
public final class SidecarKeyPaths {
    private SidecarKeyPaths() {
    }

    public static void main(String[] args) throws Exception {
        List<X509Certificate> chain = Pem.certificates(Files.readAllBytes(Path.of(args[0])));
        System.out.println("certificate " + Pem.write(chain.getFirst()).length() + " PEM characters");
        for (int i = 1; i < args.length; i++) {
            PrivateKey key = Pem.privateKey(Files.readAllBytes(Path.of(args[i])));
            Pem.privateKey(Pem.pkcs8(key).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            System.out.println("key " + key.getAlgorithm() + " matches certificate: "
                    + Pem.matches(key, chain.getFirst().getPublicKey()));
        }
        var request = CertificateRequests.create(SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders"));
        System.out.println("csr " + request.csrPem().length() + " PEM characters");
    }
}
