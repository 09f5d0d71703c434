package dev.outrider.core.snapshot;

import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObject;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.util.Base64URL;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.policy.PolicyException;

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
 * Decides whether the sidecar may apply a signed snapshot: a pure function of the JWS text, the trusted keys
 * and this sidecar's workload identity. Checks, in this order, each refusal a {@link SnapshotException.Reason}:
 * <ol>
 *   <li>JWS compact serialization of at most {@link #MAX_LENGTH} characters ({@code BAD_FORMAT});</li>
 *   <li>{@code alg} is ES256 and nothing else, so {@code none}, HS256 keyed with the public key, RS256 and
 *       EdDSA never reach a verifier ({@code UNSUPPORTED_ALGORITHM}; RFC 8725 §3.1 and §2.1);</li>
 *   <li>{@code typ} is {@link SnapshotSigner#TYPE} ({@code WRONG_TYPE}; RFC 8725 §3.11);</li>
 *   <li>{@code kid} names a trusted key ({@code UNKNOWN_KEY}); keys embedded in the header ({@code jwk},
 *       {@code jku}, {@code x5c}, {@code x5u}) are never used;</li>
 *   <li>the ECDSA signature verifies with that key ({@code BAD_SIGNATURE}; Nimbus also refuses
 *       unknown {@code crit} parameters and malformed signatures such as r = s = 0);</li>
 *   <li>the payload is a valid {@link WorkloadSnapshot} ({@code INVALID_PAYLOAD}), for this workload
 *       ({@code WRONG_WORKLOAD}), not older than the version already applied ({@code STALE_VERSION}), and
 *       whose policy documents parse ({@code INVALID_POLICIES}).</li>
 * </ol>
 * Nothing is looked at before the signature verifies except the header. Snapshots do not expire here: a sidecar
 * cut off from the control plane keeps enforcing the last one it verified (fail static, never fail open); only a
 * last-known-good snapshot read from disk at start-up is also held to a version floor and a maximum age
 * ({@link LastKnownGood}).
 *
 * <p>Trusted keys from a file ({@link #fromFile}) are read again whenever the file's bytes change, checked before
 * each verification, so the control plane's signing key can be rotated without restarting sidecars
 * (docs/control-plane.md, "Rotating the snapshot-signing key"): a file that no longer reads as a usable key set
 * is reported and the keys in use stay.
 *
 * <p>Thread-safe; verifying allocates, which is fine once per snapshot update.
 */
public final class SnapshotVerifier {
    private static final Logger log = LoggerFactory.getLogger(SnapshotVerifier.class);
    /** The longest JWS accepted (characters); a snapshot with thousands of endpoints stays far below. */
    public static final int MAX_LENGTH = 16 * 1024 * 1024;

    private volatile Map<String, ECDSAVerifier> verifiers;
    private final SpiffeId workload;
    /** Null for a fixed key set; else the JWK Set file and the bytes the keys in use were read from. */
    private final Path keyFile;
    private volatile byte[] keyFileBytes;
    /** How many recently accepted texts are remembered: one per control-plane replica a sidecar may hear. */
    static final int RECENT = 4;
    /** The snapshots accepted last, newest first, at most {@link #RECENT}; see {@link #verifyAndParse(String, long)}. */
    private volatile List<Accepted> recent = List.of();

    /** A snapshot accepted as {@code jws}, checked against the key set {@code keys} (compared by identity). */
    private record Accepted(String jws, Map<String, ECDSAVerifier> keys, VerifiedSnapshot verified) {
    }

    /**
     * @param trustedKeys the control plane's public keys: EC P-256, each with a distinct {@code kid}, {@code use}
     *                    absent or {@code sig}, {@code alg} absent or ES256; private keys are refused (a sidecar
     *                    must never hold the control plane's signing key)
     * @param workload    this sidecar's own identity; snapshots for any other workload are refused
     * @throws IllegalArgumentException naming the key that cannot be trusted
     */
    public SnapshotVerifier(JWKSet trustedKeys, SpiffeId workload) {
        this.workload = requireNonNull(workload, "workload");
        this.verifiers = verifiers(requireNonNull(trustedKeys, "trustedKeys"));
        this.keyFile = null;
    }

    private SnapshotVerifier(Path keyFile, byte[] bytes, Map<String, ECDSAVerifier> verifiers, SpiffeId workload) {
        this.keyFile = keyFile;
        this.keyFileBytes = bytes;
        this.verifiers = verifiers;
        this.workload = workload;
    }

    /**
     * Trusts the JWK Set in {@code file}, read now and again whenever its bytes change.
     *
     * @throws IOException              when the file cannot be read
     * @throws IllegalArgumentException when it is not a JWK Set of usable keys (the message names the problem)
     */
    public static SnapshotVerifier fromFile(Path file, SpiffeId workload) throws IOException {
        requireNonNull(file, "file");
        requireNonNull(workload, "workload");
        byte[] bytes = Files.readAllBytes(file);
        return new SnapshotVerifier(file, bytes, verifiers(parseKeys(file, bytes)), workload);
    }

    private static JWKSet parseKeys(Path file, byte[] bytes) {
        try {
            return JWKSet.parse(new String(bytes, StandardCharsets.UTF_8));
        } catch (ParseException e) {
            throw new IllegalArgumentException(file + " is not a JWK Set: " + e.getMessage(), e);
        }
    }

    /** With a key file: its keys again when its bytes changed; a file that cannot be used leaves the keys in use. */
    private void refreshKeys() {
        if (keyFile == null) {
            return;
        }
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(keyFile);
        } catch (IOException e) {
            log.warn("snapshot keys {} cannot be read ({}); keeping the {} keys in use", keyFile, e.toString(),
                    verifiers.size());
            return;
        }
        if (Arrays.equals(bytes, keyFileBytes)) {
            return;
        }
        synchronized (this) {
            if (Arrays.equals(bytes, keyFileBytes)) {
                return;
            }
            try {
                Map<String, ECDSAVerifier> next = verifiers(parseKeys(keyFile, bytes));
                verifiers = next;
                log.info("snapshot keys {} changed: now trusting {}", keyFile, new java.util.TreeSet<>(next.keySet()));
            } catch (IllegalArgumentException e) {
                log.warn("snapshot keys {} changed but cannot be used ({}); keeping the {} keys in use", keyFile,
                        e.getMessage(), verifiers.size());
            }
            keyFileBytes = bytes; // not looked at again until it changes again
        }
    }

    private static Map<String, ECDSAVerifier> verifiers(JWKSet trustedKeys) {
        Map<String, ECDSAVerifier> byKid = new HashMap<>();
        for (JWK jwk : trustedKeys.getKeys()) {
            String kid = jwk.getKeyID();
            if (kid == null || kid.isBlank()) {
                throw new IllegalArgumentException("trusted snapshot key without kid");
            }
            String problem = keyProblem(jwk);
            if (problem != null) {
                throw new IllegalArgumentException("trusted snapshot key '" + kid + "' " + problem);
            }
            try {
                if (byKid.put(kid, new ECDSAVerifier(jwk.toECKey())) != null) {
                    throw new IllegalArgumentException("trusted snapshot key '" + kid + "' is listed twice");
                }
            } catch (JOSEException e) {
                throw new IllegalArgumentException("trusted snapshot key '" + kid + "' is unusable: " + e.getMessage(), e);
            }
        }
        if (byKid.isEmpty()) {
            throw new IllegalArgumentException("no trusted snapshot keys");
        }
        return Map.copyOf(byKid);
    }

    private static String keyProblem(JWK jwk) {
        if (!(jwk instanceof ECKey ec) || !Curve.P_256.equals(ec.getCurve())) {
            return "is not an EC P-256 key (ES256)";
        }
        if (jwk.isPrivate()) {
            return "has a private part; give the sidecar the public key only";
        }
        if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())) {
            return "has use '" + jwk.getKeyUse().identifier() + "', not 'sig'";
        }
        if (jwk.getAlgorithm() != null && !JWSAlgorithm.ES256.equals(jwk.getAlgorithm())) {
            return "has alg '" + jwk.getAlgorithm() + "', not ES256";
        }
        return null;
    }

    /** The identity snapshots must be issued for. */
    public SpiffeId workload() {
        return workload;
    }

    /** Verifies {@code jws} without a version floor (the first snapshot, or a last-known-good one). */
    public WorkloadSnapshot verify(String jws) {
        return verify(jws, 0);
    }

    /** {@link #verifyAndParse(String, long)}'s snapshot, for callers that do not compile its policies. */
    public WorkloadSnapshot verify(String jws, long minimumVersion) {
        return verifyAndParse(jws, minimumVersion).snapshot();
    }

    /** {@link #verifyAndParse(String, long)} without a version floor. */
    public VerifiedSnapshot verifyAndParse(String jws) {
        return verifyAndParse(jws, 0);
    }

    /**
     * Verifies {@code jws} and refuses a snapshot whose version is below {@code minimumVersion} (the version
     * of the snapshot already applied: the same version again is accepted, so a reconnect that resends the
     * current snapshot is not an error).
     *
     * The result carries the policy documents as parsed here, so nothing parses the text again.
     *
     * <p>The same text as one of the last {@value #RECENT} snapshots accepted, under the same trusted keys, is not
     * checked again: its result is returned after the version floor (a reconnect resends the snapshot in use;
     * instances that share a verifier receive the same texts, one per control-plane replica: every replica signs
     * its own, and ECDSA signatures differ). A change of the key set (rotation, a retired key) checks everything
     * anew. Texts not known yet are checked one at a time, so that instances receiving the same text at once check
     * it once (a sidecar has one watch thread: for it the lock is never contended).
     *
     * @throws SnapshotException with the reason and a message without payload or key material
     */
    public VerifiedSnapshot verifyAndParse(String jws, long minimumVersion) {
        requireNonNull(jws, "jws");
        refreshKeys();
        Map<String, ECDSAVerifier> keys = verifiers;
        VerifiedSnapshot known = recentlyAccepted(jws, keys, minimumVersion);
        if (known != null) {
            return known;
        }
        synchronized (this) {
            known = recentlyAccepted(jws, keys, minimumVersion);
            return known != null ? known : check(jws, keys, minimumVersion);
        }
    }

    /** The result for {@code jws} if one of the recent texts accepted under {@code keys}, after the floor; else null. */
    private VerifiedSnapshot recentlyAccepted(String jws, Map<String, ECDSAVerifier> keys, long minimumVersion) {
        for (Accepted a : recent) {
            if (a.keys() == keys && a.jws().equals(jws)) {
                requireNotOlder(a.verified().snapshot(), minimumVersion);
                return a.verified();
            }
        }
        return null;
    }

    /** Under this verifier's lock: checks {@code jws} in full and remembers it when accepted. */
    private VerifiedSnapshot check(String jws, Map<String, ECDSAVerifier> keys, long minimumVersion) {
        JWSObject object = parse(jws);
        JWSHeader header = object.getHeader();
        if (!SnapshotSigner.TYPE.equals(header.getType())) {
            throw new SnapshotException(SnapshotException.Reason.WRONG_TYPE,
                    "typ is " + header.getType() + ", expected " + SnapshotSigner.TYPE);
        }
        String kid = header.getKeyID();
        ECDSAVerifier verifier = kid == null ? null : keys.get(kid);
        if (verifier == null) {
            throw new SnapshotException(SnapshotException.Reason.UNKNOWN_KEY,
                    kid == null ? "header has no kid" : "kid '" + kid + "' is not a trusted snapshot key");
        }
        boolean valid;
        try {
            valid = object.verify(verifier);
        } catch (JOSEException e) {
            throw new SnapshotException(SnapshotException.Reason.BAD_SIGNATURE,
                    "signature with key '" + kid + "' cannot be checked: " + e.getMessage(), e);
        }
        if (!valid) {
            throw new SnapshotException(SnapshotException.Reason.BAD_SIGNATURE,
                    "signature does not verify with key '" + kid + "'");
        }
        VerifiedSnapshot verified = checkContent(object, minimumVersion);
        List<Accepted> next = new ArrayList<>(RECENT);
        next.add(new Accepted(jws, keys, verified));
        for (Accepted a : recent) {
            if (next.size() < RECENT && a.keys() == keys) {
                next.add(a);
            }
        }
        recent = List.copyOf(next);
        return verified;
    }

    /** Format and algorithm, from the header alone. */
    private static JWSObject parse(String jws) {
        if (jws.length() > MAX_LENGTH) {
            throw new SnapshotException(SnapshotException.Reason.BAD_FORMAT,
                    "longer than " + MAX_LENGTH + " characters");
        }
        Base64URL[] parts;
        Header header;
        try {
            parts = JOSEObject.split(jws);
            header = Header.parse(parts[0]);
        } catch (ParseException | RuntimeException e) {
            // Nimbus throws NullPointerException, not ParseException, for some headers (e.g. the JSON "null").
            throw new SnapshotException(SnapshotException.Reason.BAD_FORMAT,
                    "not a JWS compact serialization: " + e.getMessage());
        }
        if (!(header instanceof JWSHeader jwsHeader) || !JWSAlgorithm.ES256.equals(jwsHeader.getAlgorithm())) {
            throw new SnapshotException(SnapshotException.Reason.UNSUPPORTED_ALGORITHM,
                    "alg " + header.getAlgorithm() + " is refused, snapshots are signed with ES256 only");
        }
        if (parts.length != 3) {
            throw new SnapshotException(SnapshotException.Reason.BAD_FORMAT, "not a JWS compact serialization");
        }
        try {
            return new JWSObject(parts[0], parts[1], parts[2]);
        } catch (ParseException | RuntimeException e) {
            throw new SnapshotException(SnapshotException.Reason.BAD_FORMAT,
                    "not a JWS compact serialization: " + e.getMessage());
        }
    }

    private static void requireNotOlder(WorkloadSnapshot snapshot, long minimumVersion) {
        if (snapshot.isOlderThan(minimumVersion)) {
            throw new SnapshotException(SnapshotException.Reason.STALE_VERSION, "snapshot " + snapshot.version()
                    + " is older than the applied version " + minimumVersion);
        }
    }

    /** Payload checks, after the signature verified. */
    private VerifiedSnapshot checkContent(JWSObject object, long minimumVersion) {
        WorkloadSnapshot snapshot;
        try {
            snapshot = SnapshotJson.read(object.getPayload().toBytes());
        } catch (IllegalArgumentException e) {
            throw new SnapshotException(SnapshotException.Reason.INVALID_PAYLOAD, "payload: " + e.getMessage(), e);
        }
        if (!snapshot.workload().equals(workload)) {
            throw new SnapshotException(SnapshotException.Reason.WRONG_WORKLOAD, "snapshot " + snapshot.version()
                    + " is for " + snapshot.workload() + ", this sidecar is " + workload);
        }
        requireNotOlder(snapshot, minimumVersion);
        try {
            return new VerifiedSnapshot(snapshot, PolicyDocuments.parse(snapshot.policies(),
                    "snapshot " + snapshot.version()));
        } catch (PolicyException e) {
            throw new SnapshotException(SnapshotException.Reason.INVALID_POLICIES, e.getMessage(), e);
        }
    }
}
