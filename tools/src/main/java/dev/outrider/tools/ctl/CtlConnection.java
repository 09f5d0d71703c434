package dev.outrider.tools.ctl;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.model.SpiffeId;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How {@code outrider ctl} reaches the control plane: a picocli mixin, so every subcommand (and later ones, such as
 * the proxy's {@code explain}) takes the same options. Defaults come from the environment
 * ({@code OUTRIDER_SERVER}, {@code OUTRIDER_CA}, {@code OUTRIDER_TOKEN_FILE}). The caller proves itself with an
 * admin client certificate ({@code --cert}, {@code --key}) or the admin token of a development control plane
 * ({@code --token-file}); the server's certificate must chain to {@code --ca}, match the host of {@code --server}
 * and carry {@code --server-identity}.
 */
public final class CtlConnection {
    public static final String DEFAULT_SERVER = "https://127.0.0.1:15010";
    public static final String DEFAULT_SERVER_IDENTITY = "spiffe://cluster.local/ns/outrider-system/sa/control-plane";

    @Spec(Spec.Target.MIXEE)
    private CommandSpec mixee;

    @Option(names = "--server", paramLabel = "URL", defaultValue = "${env:OUTRIDER_SERVER:-" + DEFAULT_SERVER + "}",
            description = "The control plane (env OUTRIDER_SERVER; default ${DEFAULT-VALUE}).")
    private String server;

    @Option(names = "--ca", paramLabel = "FILE", defaultValue = "${env:OUTRIDER_CA}",
            description = "PEM CA certificates the control plane's certificate must chain to (env OUTRIDER_CA).")
    private Path ca;

    @Option(names = "--token-file", paramLabel = "FILE", defaultValue = "${env:OUTRIDER_TOKEN_FILE}",
            description = "A file holding the admin bearer token (env OUTRIDER_TOKEN_FILE).")
    private Path tokenFile;

    @Option(names = "--cert", paramLabel = "FILE", description = "PEM client certificate of an admin identity.")
    private Path certificate;

    @Option(names = "--key", paramLabel = "FILE", description = "PEM private key of --cert.")
    private Path key;

    @Option(names = "--server-identity", paramLabel = "SPIFFE_ID", defaultValue = DEFAULT_SERVER_IDENTITY,
            description = "The SPIFFE ID the control plane's certificate must carry (default ${DEFAULT-VALUE}).")
    private String serverIdentity;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "15",
            description = "Seconds to wait for an answer (default ${DEFAULT-VALUE}).")
    private int timeoutSeconds;

    /**
     * The client these options describe.
     *
     * @throws ParameterException (exit 2) for missing or inconsistent options and unreadable files
     */
    public ControlPlaneClient open() {
        return ControlPlaneClient.open(config());
    }

    /** The configuration these options describe, checked; reads the token file. */
    public ControlPlaneClientConfig config() {
        if (ca == null) {
            throw usage("--ca FILE (or OUTRIDER_CA) is required: the CA the control plane's certificate chains to");
        }
        if ((certificate == null) != (key == null)) {
            throw usage("--cert and --key go together");
        }
        if (certificate == null && tokenFile == null) {
            throw usage("no credentials: give --cert FILE --key FILE (an admin identity) or --token-file FILE");
        }
        if (timeoutSeconds < 1 || timeoutSeconds > 600) {
            throw usage("--timeout must be 1 to 600 seconds");
        }
        URI uri;
        SpiffeId identity;
        try {
            uri = URI.create(server);
            identity = SpiffeId.parse(serverIdentity);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
        String token = tokenFile == null ? null : readToken(tokenFile);
        try {
            Duration timeout = Duration.ofSeconds(timeoutSeconds);
            return new ControlPlaneClientConfig(uri, identity, ca, certificate, key, token,
                    Duration.ofSeconds(Math.min(timeoutSeconds, 10)), timeout);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    private String readToken(Path file) {
        String token;
        try {
            token = Files.readString(file, StandardCharsets.US_ASCII).strip();
        } catch (IOException e) {
            throw usage("--token-file " + file + ": cannot read (" + e.getClass().getSimpleName() + ")");
        }
        if (token.isEmpty()) {
            throw usage("--token-file " + file + " is empty");
        }
        return token;
    }

    private ParameterException usage(String message) {
        return new ParameterException(mixee.commandLine(), message);
    }
}
