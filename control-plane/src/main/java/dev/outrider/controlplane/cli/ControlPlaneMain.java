package dev.outrider.controlplane.cli;

import dev.outrider.core.document.Durations;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.RedisSettings;
import dev.outrider.controlplane.ControlPlane;
import dev.outrider.controlplane.ControlPlaneConfig;
import dev.outrider.controlplane.StartupException;
import dev.outrider.controlplane.ca.KubernetesTokenAuthenticator;
import dev.outrider.controlplane.server.ServerTls;
import dev.outrider.controlplane.store.AuditRetention;
import dev.outrider.controlplane.store.EtcdStoreConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * {@code outrider control-plane}: starts a {@link ControlPlane} from the command line (docs/control-plane.md
 * "Running it") and runs it until SIGTERM or SIGINT, then closes it (listener, workers, store) and exits 0.
 * Exit 2 for bad options or files (the message names the option), 1 when it cannot run (a port in use).
 * {@code outrider control-plane snapshot-keys ...} runs {@link SnapshotKeysCommand} instead (no server).
 */
@Command(name = "control-plane",
        mixinStandardHelpOptions = true,
        versionProvider = ControlPlaneMain.Version.class,
        description = {"Run the Outrider control plane: the HTTPS API for sidecars and operators,",
                "the resource store, the snapshot signer and the workload CA.",
                "SIGTERM or SIGINT closes it cleanly.",
                "'snapshot-keys --signing-key FILE' prints the public keys sidecars verify snapshots with."})
public final class ControlPlaneMain implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ControlPlaneMain.class);
    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    @Option(names = "--listen", paramLabel = "HOST:PORT", defaultValue = "0.0.0.0:15010",
            converter = ListenAddress.class, description = "The API address (HTTPS, TLS 1.3). Default: ${DEFAULT-VALUE}.")
    private InetSocketAddress listen;

    @Option(names = "--data-dir", required = true, paramLabel = "DIR",
            description = "Holds store/ (the resources), signing-key.pem (when generated) and snapshot-keys.json.")
    private Path dataDir;

    @Mixin
    private StoreOptions store;

    @Option(names = "--ca-cert", required = true, paramLabel = "FILE", description = "The mesh CA certificate (PEM).")
    private Path caCert;

    @Option(names = "--ca-key", required = true, paramLabel = "FILE", description = "The mesh CA private key (PEM).")
    private Path caKey;

    @Option(names = "--trust-domain", defaultValue = "cluster.local", paramLabel = "DOMAIN",
            description = "SPIFFE trust domain of every identity issued or accepted. Default: ${DEFAULT-VALUE}.")
    private String trustDomain;

    @Option(names = "--server-name", split = ",", paramLabel = "NAME",
            description = "DNS name or IP in the serving certificate (repeatable). Default: localhost, 127.0.0.1, ::1.")
    private List<String> serverNames = new ArrayList<>();

    @Option(names = "--signing-key", paramLabel = "FILE",
            description = "EC P-256 key (PKCS#8 PEM) that signs snapshots. Default: DATA_DIR/signing-key.pem, generated when absent.")
    private Path signingKey;

    @Option(names = "--admin-identity", paramLabel = "SPIFFE_ID",
            description = "Client-certificate identity allowed to use the admin API (repeatable). Default: spiffe://<td>/ns/outrider-system/sa/admin.")
    private List<String> adminIdentities = new ArrayList<>();

    @Option(names = "--admin-token-file", paramLabel = "FILE",
            description = "Development mode: a file holding a bearer token that also grants admin.")
    private Path adminTokenFile;

    @Option(names = "--k8s-issuer", paramLabel = "URL",
            description = "Accept Kubernetes projected service-account tokens issued by this service-account issuer"
                    + " (their iss) as bootstrap credential. Needs --k8s-jwks.")
    private String k8sIssuer;

    @Option(names = "--k8s-jwks", paramLabel = "FILE",
            description = "The service-account issuer's public keys, a JWK Set file (kubectl get --raw /openid/v1/jwks);"
                    + " re-read when it changes. Needs --k8s-issuer.")
    private Path k8sJwks;

    @Option(names = "--k8s-audience", paramLabel = "AUD",
            description = "The audience service-account tokens must be issued for. Default: "
                    + KubernetesTokenAuthenticator.DEFAULT_AUDIENCE + ".")
    private String k8sAudience;

    @Option(names = "--tls-provider", defaultValue = "auto", paramLabel = "auto|openssl|jdk",
            description = "TLS implementation: BoringSSL when it loads (auto), or the one named. Default: ${DEFAULT-VALUE}.")
    private String tlsProvider;

    @Option(names = "--redis", paramLabel = "URI",
            description = "The Redis of scope: global rate-limit rules, passed on to every sidecar in its snapshot (a"
                    + " sidecar whose bootstrap file names rateLimits.redis keeps its own): redis://[user@]HOST:PORT[/DB],"
                    + " rediss://... (TLS) or redis-sentinel://HOST:PORT,.../DB#MASTER; never a password.")
    private String redis;

    @Option(names = "--redis-password-file", paramLabel = "FILE",
            description = "With --redis: where each sidecar reads the Redis password (the file is on the sidecar's file"
                    + " system, e.g. a mounted secret; the control plane never reads or sends the password).")
    private Path redisPasswordFile;

    @Option(names = "--redis-cluster",
            description = "With --redis: the URI is one node of a Redis Cluster (the sidecars learn the others).")
    private boolean redisCluster;

    @Option(names = "--redis-timeout", paramLabel = "DURATION",
            description = "With --redis: how long a request whose lease is empty waits for Redis before the rule's"
                    + " fallback decides (up to 10s). Default: 5ms.")
    private String redisTimeout;

    @Option(names = "--audit-log", paramLabel = "FILE|-",
            description = "Where every configuration change (and refused attempt) is appended as one JSON line,"
                    + " fsynced before the answer; '-' for standard output. Default: DATA_DIR/audit.log.")
    private String auditLog;

    @Option(names = "--audit-max-records", paramLabel = "N",
            description = "How many audit records the store keeps (and GET /v1/audit lists), 1 to "
                    + AuditRetention.MAX_RECORDS + ". Default: 10000.")
    private String auditMaxRecords;

    @Option(names = "--audit-max-age", paramLabel = "DURATION",
            description = "How long the store keeps an audit record, 1m to 3650d. Default: 90d.")
    private String auditMaxAge;

    @Spec
    private CommandSpec spec;

    /** Calls the action, with the signal's name, on each shutdown signal. */
    interface ShutdownSignals {
        void install(Consumer<String> action);
    }

    private final ShutdownSignals signals;

    public ControlPlaneMain() {
        this(ControlPlaneMain::installSignalHandlers);
    }

    ControlPlaneMain(ShutdownSignals signals) {
        this.signals = requireNonNull(signals, "signals");
    }

    public static void main(String[] args) {
        System.exit(commandLine(args).execute(tail(args)));
    }

    /**
     * The command {@code args} ask for: {@link SnapshotKeysCommand} when the first is {@code snapshot-keys},
     * {@link StoreCommand} for {@code export-store} and {@code import-store} (a plain dispatch, so the server's
     * required options do not apply to them), else the server.
     */
    static CommandLine commandLine(String[] args) {
        String first = args.length > 0 ? args[0] : "";
        Object command = switch (first) {
            case SnapshotKeysCommand.NAME -> new SnapshotKeysCommand();
            case StoreCommand.EXPORT -> new StoreCommand(true);
            case StoreCommand.IMPORT -> new StoreCommand(false);
            default -> new ControlPlaneMain();
        };
        CommandLine line = new CommandLine(command);
        if (command instanceof StoreCommand) {
            line.setCommandName("control-plane " + first);
        }
        return line;
    }

    /** The arguments for {@link #commandLine}'s command: without the command word. */
    static String[] tail(String[] args) {
        return isCommandWord(args) ? java.util.Arrays.copyOfRange(args, 1, args.length) : args;
    }

    private static boolean isCommandWord(String[] args) {
        return args.length > 0 && (args[0].equals(SnapshotKeysCommand.NAME) || args[0].equals(StoreCommand.EXPORT)
                || args[0].equals(StoreCommand.IMPORT));
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        ControlPlaneConfig config;
        try {
            config = config();
        } catch (IllegalArgumentException e) {
            err.println("outrider control-plane: " + e.getMessage());
            return EXIT_USAGE;
        }
        ControlPlane controlPlane;
        try {
            controlPlane = ControlPlane.start(config);
        } catch (StartupException e) {
            err.println("outrider control-plane: " + e.getMessage());
            return e.isConfiguration() ? EXIT_USAGE : EXIT_FAILURE;
        }
        CountDownLatch stop = new CountDownLatch(1);
        signals.install(signal -> {
            log.info("received SIG{}; closing", signal);
            stop.countDown();
        });
        stop.await();
        controlPlane.close();
        return EXIT_OK;
    }

    ControlPlaneConfig config() {
        List<SpiffeId> admins = new ArrayList<>();
        for (String id : adminIdentities) {
            try {
                admins.add(SpiffeId.parse(id));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--admin-identity: " + e.getMessage(), e);
            }
        }
        ServerTls.Provider provider;
        try {
            provider = ServerTls.Provider.parse(tlsProvider);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--tls-provider: " + e.getMessage(), e);
        }
        ControlPlaneConfig.Kubernetes kubernetes = kubernetes();
        EtcdStoreConfig etcd = store.etcd();
        if (etcd != null && signingKey == null) {
            throw new IllegalArgumentException("--store " + store.uri() + ": needs --signing-key (every replica must"
                    + " sign snapshots with the same key, so it is mounted, not generated)");
        }
        RedisSettings sharedRedis = rateLimitRedis();
        ControlPlaneConfig.Audit audit = audit();
        try {
            return ControlPlaneConfig.builder(dataDir, caCert, caKey)
                    .listen(listen)
                    .trustDomain(trustDomain)
                    .serverNames(serverNames)
                    .signingKey(signingKey)
                    .adminIdentities(admins)
                    .adminTokenFile(adminTokenFile)
                    .kubernetes(kubernetes)
                    .tlsProvider(provider)
                    .etcd(etcd)
                    .rateLimitRedis(sharedRedis)
                    .audit(audit)
                    .build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(optionOf(e.getMessage()) + e.getMessage(), e);
        }
    }

    /** {@code --redis} with its password file and timeout, or null; the options that need it without it are refused. */
    private RedisSettings rateLimitRedis() {
        if (redis == null) {
            if (redisPasswordFile != null || redisTimeout != null || redisCluster) {
                throw new IllegalArgumentException((redisPasswordFile != null ? "--redis-password-file"
                        : redisTimeout != null ? "--redis-timeout" : "--redis-cluster") + ": needs --redis");
            }
            return null;
        }
        Duration timeout = RedisSettings.DEFAULT_TIMEOUT;
        if (redisTimeout != null) {
            try {
                timeout = Durations.parse(redisTimeout);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--redis-timeout: " + e.getMessage(), e);
            }
        }
        try {
            URI uri = RedisSettings.uri(redis);
            return new RedisSettings(uri, redisPasswordFile, timeout, redisCluster);
        } catch (IllegalArgumentException e) {
            String option = e.getMessage().startsWith("timeout") ? "--redis-timeout: " : "--redis: ";
            throw new IllegalArgumentException(option + e.getMessage(), e);
        }
    }

    /** {@code --audit-log}, {@code --audit-max-records} and {@code --audit-max-age}, each checked and named. */
    private ControlPlaneConfig.Audit audit() {
        AuditRetention defaults = AuditRetention.DEFAULT;
        int maxRecords = defaults.maxRecords();
        if (auditMaxRecords != null) {
            maxRecords = auditMaxRecords.matches("[0-9]{1,9}") ? Integer.parseInt(auditMaxRecords) : -1;
            if (maxRecords < 1 || maxRecords > AuditRetention.MAX_RECORDS) {
                throw new IllegalArgumentException("--audit-max-records: '" + auditMaxRecords + "' is not a number"
                        + " from 1 to " + AuditRetention.MAX_RECORDS);
            }
        }
        Duration maxAge = defaults.maxAge();
        if (auditMaxAge != null) {
            try {
                maxAge = Durations.parse(auditMaxAge);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--audit-max-age: " + e.getMessage(), e);
            }
        }
        AuditRetention retention;
        try {
            retention = new AuditRetention(maxRecords, maxAge);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--audit-max-age: " + e.getMessage(), e);
        }
        if (auditLog != null && auditLog.isBlank()) {
            throw new IllegalArgumentException("--audit-log: must not be empty (a file, or - for standard output)");
        }
        Path logFile = auditLog == null ? dataDir.resolve(ControlPlaneConfig.Audit.DEFAULT_LOG_FILE)
                : auditLog.equals("-") ? null : Path.of(auditLog);
        return new ControlPlaneConfig.Audit(logFile, retention);
    }

    /** {@code --k8s-issuer} and {@code --k8s-jwks} come together (with {@code --k8s-audience} optional), or not at all. */
    private ControlPlaneConfig.Kubernetes kubernetes() {
        if (k8sIssuer == null && k8sJwks == null) {
            if (k8sAudience != null) {
                throw new IllegalArgumentException("--k8s-audience: needs --k8s-issuer and --k8s-jwks");
            }
            return null;
        }
        if (k8sIssuer == null || k8sJwks == null) {
            throw new IllegalArgumentException((k8sIssuer == null ? "--k8s-jwks: needs --k8s-issuer"
                    : "--k8s-issuer: needs --k8s-jwks") + " (Kubernetes service-account tokens need both the issuer"
                    + " and its JWK Set)");
        }
        if (k8sIssuer.isBlank()) {
            throw new IllegalArgumentException("--k8s-issuer: must not be empty");
        }
        if (k8sAudience != null && k8sAudience.isBlank()) {
            throw new IllegalArgumentException("--k8s-audience: must not be empty");
        }
        return new ControlPlaneConfig.Kubernetes(k8sIssuer.strip(), k8sJwks,
                k8sAudience == null ? KubernetesTokenAuthenticator.DEFAULT_AUDIENCE : k8sAudience.strip());
    }

    private static String optionOf(String message) {
        return message != null && message.startsWith("admin identity") ? "--admin-identity: " : "--trust-domain: ";
    }

    /**
     * SIGTERM (orchestrators) and SIGINT (Ctrl-C); the JVM runs the handler on its own signal thread, which
     * only counts down a latch.
     */
    private static void installSignalHandlers(Consumer<String> action) {
        for (String name : List.of("TERM", "INT")) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), s -> action.accept(s.getName()));
        }
    }

    /** The jar manifest's Implementation-Version, or {@code dev} when running from classes. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ControlPlaneMain.class.getPackage().getImplementationVersion();
            return new String[] {"outrider control-plane " + (v == null ? "dev" : v)};
        }
    }
}
