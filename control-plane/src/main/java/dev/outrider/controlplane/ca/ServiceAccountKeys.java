package dev.outrider.controlplane.ca;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * The Kubernetes service-account issuer's public keys, from a JWK Set file ({@code --k8s-jwks}; what
 * {@code kubectl get --raw /openid/v1/jwks} prints, typically a mounted ConfigMap).
 *
 * <p>{@link #current()} reads the file again on every call and parses it only when its bytes changed, so a
 * rotated key set (a rewritten file, or a ConfigMap's symlink swap) is used from the next bootstrap on. The file
 * is small and bootstraps are rare, so a read per bootstrap costs nothing worth a watcher thread. It blocks on
 * file I/O: callers run on the API's worker pool, never on an event loop. A changed file that cannot be read or
 * is not a usable key set leaves the previous keys in force; the problem is logged once per change.
 *
 * <p>Usable keys: RSA public keys of at least 2048 bits (RS256) and EC P-256 public keys (ES256), whose
 * {@code use} is absent or {@code sig} and whose {@code alg}, when present, is the one their type verifies.
 * Other keys are skipped (logged); a set with a private key is refused (the control plane must only hold the
 * issuer's public keys), and so is a set with no usable key.
 *
 * <p>Thread-safe: {@link #current()} is {@code synchronized} (a file read and a compare), the keys it returns
 * are immutable.
 */
final class ServiceAccountKeys {
    private static final Logger log = LoggerFactory.getLogger(ServiceAccountKeys.class);
    /** A JWK Set larger than this is refused (a cluster publishes a handful of keys, a few KiB). */
    static final int MAX_FILE_BYTES = 1024 * 1024;
    static final int MIN_RSA_BITS = 2048;

    /** One usable key: what it verifies ({@code alg}) and the verifier. */
    record Key(String keyId, JWSAlgorithm algorithm, JWSVerifier verifier) {
        Key {
            requireNonNull(algorithm, "algorithm");
            requireNonNull(verifier, "verifier");
        }
    }

    /** The usable keys of one version of the file. */
    record Keys(List<Key> all, Map<String, Key> byKeyId) {
        Keys {
            all = List.copyOf(all);
            byKeyId = Map.copyOf(byKeyId);
        }
    }

    private final Path file;
    /** Guarded by {@code this}: the bytes {@link #keys} were parsed from, the last bytes refused, the last problem logged. */
    private byte[] loaded;
    private byte[] refused;
    private String lastProblem;
    private Keys keys;

    private ServiceAccountKeys(Path file, byte[] loaded, Keys keys) {
        this.file = file;
        this.loaded = loaded;
        this.keys = keys;
    }

    /**
     * Reads {@code file} now; it must be a usable key set.
     *
     * @throws IllegalArgumentException naming the file and what is wrong with it
     */
    static ServiceAccountKeys load(Path file) {
        requireNonNull(file, "file");
        byte[] bytes;
        try {
            bytes = read(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return new ServiceAccountKeys(file, bytes, parse(file, bytes));
    }

    Path file() {
        return file;
    }

    /** The keys of the file as it is now, or the last usable ones when it changed into something unusable. */
    synchronized Keys current() {
        byte[] bytes;
        try {
            bytes = read(file);
        } catch (IOException e) {
            report("cannot read " + file + ": " + e.getMessage());
            return keys;
        }
        if (Arrays.equals(bytes, loaded)) {
            lastProblem = null;
            return keys;
        }
        if (Arrays.equals(bytes, refused)) {
            return keys;
        }
        try {
            Keys next = parse(file, bytes);
            loaded = bytes;
            refused = null;
            lastProblem = null;
            keys = next;
            log.info("--k8s-jwks: {} changed; {} key(s) in use: {}", file, next.all().size(), keyIds(next));
        } catch (IllegalArgumentException e) {
            refused = bytes;
            report(e.getMessage());
        }
        return keys;
    }

    /** Logs a problem with the file once, not on every bootstrap while it lasts. */
    private void report(String problem) {
        if (!problem.equals(lastProblem)) {
            lastProblem = problem;
            log.warn("--k8s-jwks: {}; keeping the {} key(s) read before", problem, keys.all().size());
        }
    }

    private static byte[] read(Path file) throws IOException {
        long size = Files.size(file);
        if (size > MAX_FILE_BYTES) {
            throw new IOException("larger than " + MAX_FILE_BYTES + " bytes");
        }
        return Files.readAllBytes(file);
    }

    /** The usable keys of {@code bytes}; refuses a set that is not JSON, holds a private key, or has none usable. */
    static Keys parse(Path file, byte[] bytes) {
        JWKSet set;
        try {
            set = JWKSet.parse(new String(bytes, StandardCharsets.UTF_8));
        } catch (ParseException | RuntimeException e) {
            throw new IllegalArgumentException(file + " is not a JWK Set: " + e.getMessage(), e);
        }
        List<Key> all = new ArrayList<>();
        Map<String, Key> byKeyId = new HashMap<>();
        for (int i = 0; i < set.getKeys().size(); i++) {
            JWK jwk = set.getKeys().get(i);
            String name = jwk.getKeyID() == null ? "keys[" + i + "]" : "key '" + jwk.getKeyID() + "'";
            if (jwk.isPrivate()) {
                throw new IllegalArgumentException(file + ": " + name + " has a private part; give the control"
                        + " plane the issuer's public keys only");
            }
            Key key;
            try {
                key = usable(jwk);
            } catch (JOSEException e) {
                log.warn("--k8s-jwks: {}: {} skipped: {}", file, name, e.getMessage());
                continue;
            }
            if (key == null) {
                log.warn("--k8s-jwks: {}: {} skipped: not an RSA (2048+ bits) or EC P-256 signature key", file, name);
                continue;
            }
            if (key.keyId() != null && byKeyId.putIfAbsent(key.keyId(), key) != null) {
                throw new IllegalArgumentException(file + ": " + name + " is listed twice");
            }
            all.add(key);
        }
        if (all.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no usable key (RSA of 2048 bits or more for RS256,"
                    + " EC P-256 for ES256)");
        }
        return new Keys(all, byKeyId);
    }

    /** The key as a verifier, or null when it is not one this control plane accepts. */
    private static Key usable(JWK jwk) throws JOSEException {
        if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
            return null;
        }
        if (jwk instanceof RSAKey rsa) {
            if (rsa.size() < MIN_RSA_BITS || !allows(jwk, JWSAlgorithm.RS256)) {
                return null;
            }
            return new Key(jwk.getKeyID(), JWSAlgorithm.RS256, new RSASSAVerifier(rsa));
        }
        if (jwk instanceof ECKey ec && Curve.P_256.equals(ec.getCurve()) && allows(jwk, JWSAlgorithm.ES256)) {
            return new Key(jwk.getKeyID(), JWSAlgorithm.ES256, new ECDSAVerifier(ec));
        }
        return null;
    }

    private static boolean allows(JWK jwk, JWSAlgorithm algorithm) {
        return jwk.getAlgorithm() == null || algorithm.equals(jwk.getAlgorithm());
    }

    private static List<String> keyIds(Keys keys) {
        return keys.all().stream().map(k -> k.keyId() == null ? "(no kid)" : k.keyId()).toList();
    }

    @Override
    public String toString() {
        return "ServiceAccountKeys[" + file + "]";
    }
}
