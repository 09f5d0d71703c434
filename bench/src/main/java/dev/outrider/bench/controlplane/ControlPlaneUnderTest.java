package dev.outrider.bench.controlplane;

import com.nimbusds.jose.jwk.JWKSet;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.controlplane.ControlPlane;
import dev.outrider.controlplane.ControlPlaneConfig;
import dev.outrider.controlplane.server.ServerTls;
import io.netty.handler.ssl.OpenSsl;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * The control plane a propagation run measures: its replicas' addresses (one for the in-process control plane),
 * the public keys its snapshots are signed with, and the processes whose footprint the report shows (none when the
 * control plane runs inside the benchmark's JVM). Whatever it started is in the run's {@link Cleanup}.
 *
 * @param replicas      {@code https://127.0.0.1:PORT} of each replica, in order
 * @param snapshotKeys  the signing key's public half, as the replicas publish it ({@code snapshot-keys.json})
 * @param replicaProcesses the replicas' processes, in replica order; empty for the in-process control plane
 * @param etcdMembers   the etcd members' processes; empty with the file store
 * @param description   one line for the report
 */
record ControlPlaneUnderTest(List<URI> replicas, JWKSet snapshotKeys, List<ChildProcess> replicaProcesses,
                             List<ChildProcess> etcdMembers, String description) {
    ControlPlaneUnderTest {
        replicas = List.copyOf(replicas);
        requireNonNull(snapshotKeys, "snapshotKeys");
        replicaProcesses = List.copyOf(replicaProcesses);
        etcdMembers = List.copyOf(etcdMembers);
        requireNonNull(description, "description");
    }

    /**
     * {@link ControlPlane#start} in this JVM on 127.0.0.1 with an ephemeral port, the file store in
     * {@code dataDir} (fsync on every write), the admin token of {@code adminTokenFile}.
     */
    static ControlPlaneUnderTest inProcess(Path dataDir, BenchMeshCa ca, Path adminTokenFile,
                                           ServerTls.Provider tls, int ioThreads, int workerThreads, Cleanup cleanup)
            throws Exception {
        ControlPlaneConfig config = ControlPlaneConfig.builder(dataDir, ca.certificate(), ca.privateKey())
                .listen(new InetSocketAddress("127.0.0.1", 0))
                .trustDomain(PropagationBenchmark.TRUST_DOMAIN)
                .adminTokenFile(adminTokenFile)
                .tlsProvider(tls)
                .ioThreads(ioThreads)
                .workerThreads(workerThreads)
                .build();
        ControlPlane controlPlane = cleanup.add(ControlPlane.start(config));
        String tlsName = tls == ServerTls.Provider.AUTO
                ? "auto (" + (OpenSsl.isAvailable() ? "BoringSSL" : "JDK") + ")" : tls.name().toLowerCase(Locale.ROOT);
        return new ControlPlaneUnderTest(List.of(URI.create("https://127.0.0.1:" + controlPlane.address().getPort())),
                JWKSet.load(config.snapshotKeysFile().toFile()), List.of(), List.of(),
                "control plane in-process (file store): " + ioThreads + " event loops, " + workerThreads
                        + " workers, TLS " + tlsName);
    }

    /** An admin client of replica {@code replica}: the admin token (development mode), trusting the mesh CA. */
    ControlPlaneClient admin(int replica, Path ca, String token) {
        return adminClient(replicas.get(replica), ca, token);
    }

    static ControlPlaneClient adminClient(URI replica, Path ca, String token) {
        return ControlPlaneClient.open(new ControlPlaneClientConfig(replica,
                ControlPlaneClientConfig.defaultServerIdentity(PropagationBenchmark.TRUST_DOMAIN), ca, null, null,
                token, ControlPlaneClientConfig.DEFAULT_CONNECT_TIMEOUT,
                ControlPlaneClientConfig.DEFAULT_REQUEST_TIMEOUT));
    }
}
