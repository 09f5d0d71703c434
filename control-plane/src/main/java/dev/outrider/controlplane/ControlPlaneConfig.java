package dev.outrider.controlplane;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.RedisSettings;
import dev.outrider.controlplane.server.ServerTls;
import dev.outrider.controlplane.store.AuditRetention;
import dev.outrider.controlplane.store.EtcdStoreConfig;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Everything {@link ControlPlane#start} needs, validated once (docs/control-plane.md "Running it"). Defaults
 * are filled in by {@link Builder}: listen {@code 0.0.0.0:15010}, trust domain {@code cluster.local}, server
 * names {@code localhost, 127.0.0.1, ::1}, signing key {@code DATA_DIR/signing-key.pem}, admin identity
 * {@code spiffe://<td>/ns/outrider-system/sa/admin}, no admin token, no Kubernetes service-account tokens.
 *
 * @param adminTokenFile null when token auth is off
 * @param kubernetes     null when Kubernetes service-account tokens are not accepted as bootstrap credential
 * @param idleTimeout    a connection with nothing in flight for this long is closed
 * @param workerThreads  threads for blocking work (store writes, CA signing)
 * @param ioThreads      event loops
 * @param etcd           where the store lives when it is etcd ({@code --store etcd://...}); null for the file store
 *                       under {@code dataDir}
 * @param rateLimitRedis the Redis of {@code scope: global} rate-limit rules passed on to sidecars in their snapshots
 *                       ({@code --redis}); null: none
 * @param audit          where the audit trail goes and how much of it the store keeps
 */
public record ControlPlaneConfig(InetSocketAddress listen, Path dataDir, Path caCertificate, Path caKey,
                                 String trustDomain, List<String> serverNames, Path signingKey,
                                 List<SpiffeId> adminIdentities, Path adminTokenFile, Kubernetes kubernetes,
                                 ServerTls.Provider tlsProvider, Duration idleTimeout, int workerThreads, int ioThreads,
                                 EtcdStoreConfig etcd, RedisSettings rateLimitRedis, Audit audit) {
    public static final int DEFAULT_PORT = 15010;

    /** With the default audit trail ({@code DATA_DIR/audit.log}, {@link AuditRetention#DEFAULT}). */
    public ControlPlaneConfig(InetSocketAddress listen, Path dataDir, Path caCertificate, Path caKey,
                              String trustDomain, List<String> serverNames, Path signingKey,
                              List<SpiffeId> adminIdentities, Path adminTokenFile, Kubernetes kubernetes,
                              ServerTls.Provider tlsProvider, Duration idleTimeout, int workerThreads, int ioThreads,
                              EtcdStoreConfig etcd, RedisSettings rateLimitRedis) {
        this(listen, dataDir, caCertificate, caKey, trustDomain, serverNames, signingKey, adminIdentities,
                adminTokenFile, kubernetes, tlsProvider, idleTimeout, workerThreads, ioThreads, etcd, rateLimitRedis,
                Audit.defaults(dataDir));
    }

    /** Without a Redis for sidecars. */
    public ControlPlaneConfig(InetSocketAddress listen, Path dataDir, Path caCertificate, Path caKey,
                              String trustDomain, List<String> serverNames, Path signingKey,
                              List<SpiffeId> adminIdentities, Path adminTokenFile, Kubernetes kubernetes,
                              ServerTls.Provider tlsProvider, Duration idleTimeout, int workerThreads, int ioThreads,
                              EtcdStoreConfig etcd) {
        this(listen, dataDir, caCertificate, caKey, trustDomain, serverNames, signingKey, adminIdentities,
                adminTokenFile, kubernetes, tlsProvider, idleTimeout, workerThreads, ioThreads, etcd, null);
    }
    public static final String SYSTEM_NAMESPACE = "outrider-system";

    public ControlPlaneConfig {
        requireNonNull(listen, "listen");
        requireNonNull(dataDir, "dataDir");
        requireNonNull(caCertificate, "caCertificate");
        requireNonNull(caKey, "caKey");
        requireNonNull(trustDomain, "trustDomain");
        serverNames = List.copyOf(serverNames);
        requireNonNull(signingKey, "signingKey");
        adminIdentities = List.copyOf(adminIdentities);
        requireNonNull(tlsProvider, "tlsProvider");
        requireNonNull(idleTimeout, "idleTimeout");
        requireNonNull(audit, "audit");
        new SpiffeId(trustDomain, "/ns/" + SYSTEM_NAMESPACE); // validates the trust domain
        for (SpiffeId admin : adminIdentities) {
            if (!admin.trustDomain().equals(trustDomain)) {
                throw new IllegalArgumentException("admin identity " + admin + " is not in trust domain " + trustDomain);
            }
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("idle timeout must be positive");
        }
        if (workerThreads < 1 || ioThreads < 1) {
            throw new IllegalArgumentException("worker and I/O threads must be at least 1");
        }
    }

    /**
     * Kubernetes projected service-account tokens as bootstrap credential ({@code --k8s-issuer}, {@code --k8s-jwks},
     * {@code --k8s-audience}).
     *
     * @param issuer   the cluster's service-account issuer, the {@code iss} of its tokens
     * @param jwks     the issuer's public keys (a JWK Set file), re-read when it changes
     * @param audience the audience tokens must be issued for ({@code outrider} by default)
     */
    public record Kubernetes(String issuer, Path jwks, String audience) {
        public Kubernetes {
            requireNonNull(issuer, "issuer");
            requireNonNull(jwks, "jwks");
            requireNonNull(audience, "audience");
            if (issuer.isBlank()) {
                throw new IllegalArgumentException("Kubernetes issuer must not be empty");
            }
            if (audience.isBlank()) {
                throw new IllegalArgumentException("Kubernetes audience must not be empty");
            }
        }
    }

    /**
     * The audit trail ({@code --audit-log}, {@code --audit-max-records}, {@code --audit-max-age}).
     *
     * @param logFile   the JSON-lines file every record is appended to, or null for standard output
     * @param retention how much of the trail the store keeps (and {@code GET /v1/audit} lists)
     */
    public record Audit(Path logFile, AuditRetention retention) {
        public static final String DEFAULT_LOG_FILE = "audit.log";

        public Audit {
            requireNonNull(retention, "retention");
        }

        /** {@code DATA_DIR/audit.log}, {@link AuditRetention#DEFAULT}. */
        public static Audit defaults(Path dataDir) {
            return new Audit(dataDir.resolve(DEFAULT_LOG_FILE), AuditRetention.DEFAULT);
        }
    }

    /** Where the store keeps its resources: {@code DATA_DIR/store}. */
    public Path storeDirectory() {
        return dataDir.resolve("store");
    }

    /** The public JWK Set written on start: {@code DATA_DIR/snapshot-keys.json}. */
    public Path snapshotKeysFile() {
        return dataDir.resolve("snapshot-keys.json");
    }

    public static Builder builder(Path dataDir, Path caCertificate, Path caKey) {
        return new Builder(dataDir, caCertificate, caKey);
    }

    /** Fills in the documented defaults; not thread-safe. */
    public static final class Builder {
        private InetSocketAddress listen = new InetSocketAddress("0.0.0.0", DEFAULT_PORT);
        private final Path dataDir;
        private final Path caCertificate;
        private final Path caKey;
        private String trustDomain = "cluster.local";
        private List<String> serverNames = List.of("localhost", "127.0.0.1", "::1");
        private Path signingKey;
        private List<SpiffeId> adminIdentities = List.of();
        private Path adminTokenFile;
        private Kubernetes kubernetes;
        private ServerTls.Provider tlsProvider = ServerTls.Provider.AUTO;
        private Duration idleTimeout = Duration.ofMinutes(2);
        private int workerThreads = 4;
        private int ioThreads = 2;
        private EtcdStoreConfig etcd;
        private RedisSettings rateLimitRedis;
        private Audit audit;

        private Builder(Path dataDir, Path caCertificate, Path caKey) {
            this.dataDir = requireNonNull(dataDir, "dataDir");
            this.caCertificate = requireNonNull(caCertificate, "caCertificate");
            this.caKey = requireNonNull(caKey, "caKey");
        }

        public Builder listen(InetSocketAddress listen) {
            this.listen = requireNonNull(listen, "listen");
            return this;
        }

        public Builder trustDomain(String trustDomain) {
            this.trustDomain = requireNonNull(trustDomain, "trustDomain");
            return this;
        }

        /** Replaces the default names; empty keeps the defaults. */
        public Builder serverNames(List<String> serverNames) {
            if (!serverNames.isEmpty()) {
                this.serverNames = List.copyOf(serverNames);
            }
            return this;
        }

        public Builder signingKey(Path signingKey) {
            this.signingKey = signingKey;
            return this;
        }

        /** Replaces the default admin identity; empty keeps the default. */
        public Builder adminIdentities(List<SpiffeId> adminIdentities) {
            this.adminIdentities = List.copyOf(adminIdentities);
            return this;
        }

        public Builder adminTokenFile(Path adminTokenFile) {
            this.adminTokenFile = adminTokenFile;
            return this;
        }

        /** Accepts Kubernetes service-account tokens; null (the default) refuses them. */
        public Builder kubernetes(Kubernetes kubernetes) {
            this.kubernetes = kubernetes;
            return this;
        }

        public Builder tlsProvider(ServerTls.Provider tlsProvider) {
            this.tlsProvider = requireNonNull(tlsProvider, "tlsProvider");
            return this;
        }

        public Builder idleTimeout(Duration idleTimeout) {
            this.idleTimeout = requireNonNull(idleTimeout, "idleTimeout");
            return this;
        }

        public Builder workerThreads(int workerThreads) {
            this.workerThreads = workerThreads;
            return this;
        }

        public Builder ioThreads(int ioThreads) {
            this.ioThreads = ioThreads;
            return this;
        }

        /** Keeps the store in etcd; null (the default) keeps it in files under the data directory. */
        public Builder etcd(EtcdStoreConfig etcd) {
            this.etcd = etcd;
            return this;
        }

        /** The Redis passed on to sidecars for their global rate limits; null (the default): none. */
        public Builder rateLimitRedis(RedisSettings rateLimitRedis) {
            this.rateLimitRedis = rateLimitRedis;
            return this;
        }

        /** The audit trail; null (the default): {@link Audit#defaults}. */
        public Builder audit(Audit audit) {
            this.audit = audit;
            return this;
        }

        public ControlPlaneConfig build() {
            List<SpiffeId> admins = adminIdentities.isEmpty()
                    ? List.of(SpiffeId.ofServiceAccount(trustDomain, SYSTEM_NAMESPACE, "admin")) : adminIdentities;
            return new ControlPlaneConfig(listen, dataDir, caCertificate, caKey, trustDomain, serverNames,
                    signingKey == null ? dataDir.resolve("signing-key.pem") : signingKey, admins, adminTokenFile,
                    kubernetes, tlsProvider, idleTimeout, workerThreads, ioThreads, etcd, rateLimitRedis,
                    audit == null ? Audit.defaults(dataDir) : audit);
        }
    }
}
