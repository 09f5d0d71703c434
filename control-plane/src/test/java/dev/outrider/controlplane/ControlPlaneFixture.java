package dev.outrider.controlplane;

import dev.outrider.controlplane.store.EtcdStoreConfig;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.EtcdCluster;
import dev.outrider.controlplane.testing.TestMesh;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-process control plane on 127.0.0.1 (ephemeral port) with a test CA, an admin token and the default
 * admin identity, plus clients for every kind of caller.
 *
 * <p>Its store is the file store, or with {@code -Doutrider.test.store=etcd} (the {@code store-etcd} test run
 * in control-plane/pom.xml) an etcd store on one real etcd member shared by the whole test JVM, each fixture
 * under its own key prefix: the API tests then run against both stores.
 */
public final class ControlPlaneFixture implements AutoCloseable {
    public static final String ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    public final TestMesh mesh;
    public final ControlPlane controlPlane;
    public final Path dataDir;

    private ControlPlaneFixture(TestMesh mesh, ControlPlane controlPlane, Path dataDir) {
        this.mesh = mesh;
        this.controlPlane = controlPlane;
        this.dataDir = dataDir;
    }

    public static ControlPlaneFixture start(Path dir) throws Exception {
        return start(dir, null);
    }

    /** @param kubernetes Kubernetes service-account tokens accepted as bootstrap credential, or null */
    public static ControlPlaneFixture start(Path dir, ControlPlaneConfig.Kubernetes kubernetes) throws Exception {
        return start(dir, kubernetes, testEtcdStore());
    }

    /** The first replica of a control plane on {@code etcd}; {@link #replica} starts the others. */
    public static ControlPlaneFixture startOn(Path dir, EtcdStoreConfig etcd) throws Exception {
        return start(dir, null, etcd);
    }

    /**
     * A file-store control plane on {@code listen} whose serving certificate names only {@code serverNames} (the
     * default one also names 127.0.0.1 and ::1).
     */
    public static ControlPlaneFixture startNamed(Path dir, InetSocketAddress listen, List<String> serverNames)
            throws Exception {
        return start(dir, null, null, listen, serverNames);
    }

    private static ControlPlaneFixture start(Path dir, ControlPlaneConfig.Kubernetes kubernetes, EtcdStoreConfig etcd)
            throws Exception {
        return start(dir, kubernetes, etcd, new InetSocketAddress("127.0.0.1", 0), null);
    }

    private static ControlPlaneFixture start(Path dir, ControlPlaneConfig.Kubernetes kubernetes, EtcdStoreConfig etcd,
                                             InetSocketAddress listen, List<String> serverNames) throws Exception {
        TestMesh mesh = TestMesh.create(dir.resolve("ca"));
        Path tokenFile = Files.writeString(dir.resolve("admin-token"), ADMIN_TOKEN + "\n");
        Path dataDir = dir.resolve("data");
        ControlPlaneConfig.Builder builder = ControlPlaneConfig.builder(dataDir, mesh.caCertFile(), mesh.caKeyFile());
        if (serverNames != null) {
            builder.serverNames(serverNames);
        }
        ControlPlane cp = ControlPlane.start(builder
                .listen(listen)
                .adminTokenFile(tokenFile)
                .kubernetes(kubernetes)
                .tlsProvider(TestMesh.tlsProvider())
                .workerThreads(2)
                .ioThreads(1)
                .etcd(etcd)
                .build());
        return new ControlPlaneFixture(mesh, cp, dataDir);
    }

    /**
     * Closes this control plane and starts a new one with the same configuration, data (store, snapshot key) and
     * CA on the same port, as a restarted process would be; returns the new one.
     */
    public ControlPlaneFixture restart() throws Exception {
        ControlPlaneConfig c = controlPlane.config();
        InetSocketAddress address = controlPlane.address();
        controlPlane.close();
        ControlPlane again = ControlPlane.start(new ControlPlaneConfig(address, c.dataDir(), c.caCertificate(),
                c.caKey(), c.trustDomain(), c.serverNames(), c.signingKey(), c.adminIdentities(), c.adminTokenFile(),
                c.kubernetes(), c.tlsProvider(), c.idleTimeout(), c.workerThreads(), c.ioThreads(), c.etcd(),
                c.rateLimitRedis(), c.audit()));
        return new ControlPlaneFixture(mesh, again, dataDir);
    }

    /** No client certificate, no token. */
    public ApiClient anonymous() throws Exception {
        return ApiClient.of(mesh.trusting(), controlPlane.address());
    }

    public ApiClient adminByToken() throws Exception {
        return anonymous().withBearer(ADMIN_TOKEN);
    }

    /** A client certificate with the default admin identity. */
    public ApiClient adminByCertificate() throws Exception {
        return workload("outrider-system", "admin");
    }

    public ApiClient workload(String namespace, String serviceAccount) throws Exception {
        return ApiClient.of(mesh.sslContext(mesh.workload(namespace, serviceAccount)), controlPlane.address());
    }

    /**
     * Another replica of this control plane: the same store (etcd), CA, signing key and admin token, its own data
     * directory {@code dataDir} and port.
     */
    public ControlPlaneFixture replica(Path dataDir) throws Exception {
        ControlPlaneConfig c = controlPlane.config();
        if (c.etcd() == null) {
            throw new IllegalStateException("replicas need a shared store: start the first one with startOn(etcd)");
        }
        ControlPlane another = ControlPlane.start(new ControlPlaneConfig(new InetSocketAddress("127.0.0.1", 0), dataDir,
                c.caCertificate(), c.caKey(), c.trustDomain(), c.serverNames(), c.signingKey(), c.adminIdentities(),
                c.adminTokenFile(), c.kubernetes(), c.tlsProvider(), c.idleTimeout(), c.workerThreads(), c.ioThreads(),
                c.etcd(), c.rateLimitRedis()));
        return new ControlPlaneFixture(mesh, another, dataDir);
    }

    /** Null for the file store; with {@code -Doutrider.test.store=etcd}, a fresh prefix on the shared member. */
    private static EtcdStoreConfig testEtcdStore() throws Exception {
        String store = System.getProperty("outrider.test.store", "file");
        switch (store) {
            case "file" -> {
                return null;
            }
            case "etcd" -> {
                return new EtcdStoreConfig(SharedEtcd.cluster().endpoints(), null,
                        "/fixture-" + PREFIXES.incrementAndGet() + "/", Duration.ofSeconds(10));
            }
            default -> throw new IllegalArgumentException("outrider.test.store must be file or etcd, not " + store);
        }
    }

    /** One etcd member for every fixture of the test JVM, stopped when the JVM exits. */
    private static final class SharedEtcd {
        private static EtcdCluster cluster;

        static synchronized EtcdCluster cluster() throws Exception {
            if (cluster == null) {
                Path dir = Files.createTempDirectory("outrider-etcd");
                EtcdCluster started = EtcdCluster.start(dir, 1);
                Runtime.getRuntime().addShutdownHook(new Thread(started::close, "etcd-stop"));
                cluster = started;
            }
            return cluster;
        }
    }

    @Override
    public void close() {
        controlPlane.close();
    }
}
