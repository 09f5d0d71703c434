package dev.outrider.core.pem;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

import java.io.IOException;
import java.io.StringReader;
import java.security.PrivateKey;

/**
 * The private-key forms the JDK has no reader for, read with BouncyCastle's {@link PEMParser}: SEC1
 * {@code EC PRIVATE KEY} (RFC 5915), PKCS#1 {@code RSA PRIVATE KEY} (RFC 8017 A.1.2), and a PKCS#8 key of an
 * algorithm the JDK's key factories do not read; everything else (an encrypted key, a certificate) is refused
 * with the message that names what was found. Only {@link Pem#privateKey} calls this class, and only for such a
 * file, so a sidecar with PKCS#8 keys never loads it nor BouncyCastle. The keys are the JDK's: BouncyCastle's own
 * provider is never registered.
 */
final class BouncyCastleKeys {
    private BouncyCastleKeys() {
    }

    /** See {@link Pem#privateKey}: the same messages. */
    static PrivateKey privateKey(String text) throws IOException {
        Object o;
        try (PEMParser parser = new PEMParser(new StringReader(text))) {
            o = parser.readObject();
        } catch (IOException e) {
            throw new IOException("not a readable PEM private key", e);
        }
        if (o == null) {
            throw new IOException("no PEM private key found");
        }
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try {
            if (o instanceof PEMKeyPair pair) {
                // Only the private part: a SEC1 key may leave out its (optional) public key.
                return converter.getPrivateKey(pair.getPrivateKeyInfo());
            }
            if (o instanceof PrivateKeyInfo info) {
                return converter.getPrivateKey(info);
            }
        } catch (PEMException e) {
            throw new IOException("not a readable PEM private key", e);
        }
        throw new IOException("unsupported PEM object " + o.getClass().getSimpleName()
                + "; expected an unencrypted PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY");
    }
}
