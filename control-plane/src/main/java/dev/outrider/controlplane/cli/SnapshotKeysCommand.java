package dev.outrider.controlplane.cli;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.controlplane.signing.SigningKey;
import dev.outrider.core.files.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * {@code outrider control-plane snapshot-keys --signing-key FILE}: the public JWK Set of a snapshot signing key,
 * the {@code snapshot-keys.json} sidecars verify snapshots with, without starting a control plane. Installers
 * use it to put the keys in place (a Kubernetes ConfigMap) before the control plane first runs; the control
 * plane given the same {@code --signing-key} serves and writes exactly this set. {@code --generate} creates the
 * key first when the file does not exist (EC P-256, PKCS#8, 0600), as the control plane would. Never prints
 * the private key. Exit 0, or 2 when the key file is missing or unusable (the message names it).
 */
@Command(name = "snapshot-keys",
        mixinStandardHelpOptions = true,
        versionProvider = ControlPlaneMain.Version.class,
        description = {"Print the public JWK Set (snapshot-keys.json) of a snapshot signing key."})
final class SnapshotKeysCommand implements Callable<Integer> {
    static final String NAME = "snapshot-keys";

    @Option(names = "--signing-key", required = true, paramLabel = "FILE",
            description = "The EC P-256 private key (PEM) the control plane signs snapshots with (its --signing-key).")
    private Path signingKey;

    @Option(names = "--generate",
            description = "Create FILE first when it does not exist (EC P-256, PKCS#8 PEM, mode 0600).")
    private boolean generate;

    @Option(names = "--also", paramLabel = "FILE",
            description = "Add the public keys of this JWK Set (repeatable): the set sidecars trust while a signing"
                    + " key is rotated holds the old key and the new one.")
    private List<Path> also = new ArrayList<>();

    @Option(names = "--out", paramLabel = "FILE",
            description = "Write the JWK Set to FILE (atomically, mode 0644) instead of standard output.")
    private Path out;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        SigningKey key;
        try {
            if (!generate && !Files.exists(signingKey)) {
                err.println("outrider control-plane snapshot-keys: --signing-key " + signingKey
                        + ": no such file (--generate creates it)");
                return ControlPlaneMain.EXIT_USAGE;
            }
            key = generate ? SigningKey.loadOrGenerate(signingKey) : SigningKey.load(signingKey);
        } catch (IOException e) {
            err.println("outrider control-plane snapshot-keys: " + e.getMessage());
            return ControlPlaneMain.EXIT_USAGE;
        }
        byte[] json;
        try {
            json = withAlso(key.publicKeysJson());
        } catch (IllegalArgumentException e) {
            err.println("outrider control-plane snapshot-keys: " + e.getMessage());
            return ControlPlaneMain.EXIT_USAGE;
        }
        if (out == null) {
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.println(new String(json, StandardCharsets.UTF_8));
            stdout.flush();
            return ControlPlaneMain.EXIT_OK;
        }
        try {
            Files.createDirectories(out.toAbsolutePath().getParent());
            AtomicFiles.write(out, json, AtomicFiles.WORLD_READABLE);
        } catch (IOException e) {
            err.println("outrider control-plane snapshot-keys: --out " + out + ": cannot write: " + e.getMessage());
            return ControlPlaneMain.EXIT_FAILURE;
        }
        return ControlPlaneMain.EXIT_OK;
    }

    /** The key's public set, with the public keys of every {@code --also} set after it (each kid once). */
    private byte[] withAlso(byte[] own) {
        if (also.isEmpty()) {
            return own;
        }
        try {
            List<JWK> keys = new ArrayList<>(JWKSet.parse(new String(own, StandardCharsets.UTF_8)).getKeys());
            Set<String> kids = new HashSet<>();
            keys.forEach(k -> kids.add(k.getKeyID()));
            for (Path file : also) {
                JWKSet set;
                try {
                    set = JWKSet.parse(Files.readString(file));
                } catch (IOException | ParseException e) {
                    throw new IllegalArgumentException("--also " + file + ": not a readable JWK Set: " + e.getMessage(), e);
                }
                for (JWK k : set.getKeys()) {
                    if (k.isPrivate()) {
                        throw new IllegalArgumentException("--also " + file + ": key '" + k.getKeyID()
                                + "' has a private part; give public keys only");
                    }
                    if (kids.add(k.getKeyID())) {
                        keys.add(k);
                    }
                }
            }
            return new JWKSet(keys).toString(true).getBytes(StandardCharsets.UTF_8);
        } catch (ParseException e) {
            throw new IllegalStateException("the key's own public set does not parse", e);
        }
    }
}
