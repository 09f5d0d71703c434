package dev.outrider.controlplane.cli;

import dev.outrider.controlplane.signing.SigningKey;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
        if (out == null) {
            PrintWriter stdout = spec.commandLine().getOut();
            stdout.println(new String(key.publicKeysJson(), StandardCharsets.UTF_8));
            stdout.flush();
            return ControlPlaneMain.EXIT_OK;
        }
        try {
            key.writePublicKeys(out);
        } catch (IOException e) {
            err.println("outrider control-plane snapshot-keys: --out " + out + ": cannot write: " + e.getMessage());
            return ControlPlaneMain.EXIT_FAILURE;
        }
        return ControlPlaneMain.EXIT_OK;
    }
}
