package dev.outrider.bench.controlplane;

import dev.outrider.core.client.BootstrapToken;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.JoinToken;
import dev.outrider.core.identity.CertificateFiles;
import dev.outrider.core.identity.WorkloadCertificates;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.SnapshotVerifier;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static java.util.Objects.requireNonNull;

/**
 * One workload identity ({@code spiffe://<td>/ns/<namespace>/sa/<account>}) shared by its simulated sidecars, as
 * the pods of one Deployment share its service account: one certificate, obtained with a join token and the real
 * CSR path ({@link WorkloadCertificates}: P-256 key, CSR, certificate files in this workload's directory, renewed
 * at half-life), and one {@link ControlPlaneClient} per control-plane replica its instances start at, made on the
 * first use of that replica. Client {@code r} lists the replicas starting with {@code r}, then the others in order
 * (as a sidecar's {@code controlPlane.address} would), authenticates with the shared certificate files (each
 * client re-reads them when they change) and runs on the fleet's shared executor ({@link SimulatedSidecar.Mesh}).
 *
 * <p>What the instances of one workload share through a client: its HTTP client (one TLS context, one selector
 * thread, a pool of connections to that replica: each instance's long poll holds one) and its current address,
 * so when a replica stops answering, the instances that started at it move on together. They also share one
 * {@link SnapshotVerifier}: it checks the signature and parses the payload of a snapshot text once, and hands
 * the result to every instance that receives the same text (each still holds it to its own version floor).
 *
 * <p>Thread-safe: {@link #client} and {@link #close} synchronize.
 */
final class SimulatedWorkload implements AutoCloseable {
    private final SimulatedSidecar.Mesh mesh;
    private final String serviceAccount;
    private final SpiffeId identity;
    private final CertificateFiles files;
    private final SnapshotVerifier verifier;
    /** Guarded by this: the client per first replica, null until used. */
    private final ControlPlaneClient[] clients;
    private WorkloadCertificates certificates;
    private boolean closed;

    private SimulatedWorkload(SimulatedSidecar.Mesh mesh, String serviceAccount, SpiffeId identity,
                              CertificateFiles files) {
        this.mesh = mesh;
        this.serviceAccount = serviceAccount;
        this.identity = identity;
        this.files = files;
        this.verifier = new SnapshotVerifier(mesh.snapshotKeys(), identity);
        this.clients = new ControlPlaneClient[mesh.replicas().size()];
    }

    /**
     * Obtains the certificate through replica {@code firstReplica} (blocking, on the caller's thread). The Service
     * {@code serviceAccount} must exist for its instances' registrations to be accepted.
     *
     * @param dir the workload's own directory (certificate files; its instances' directories go inside)
     */
    static SimulatedWorkload start(SimulatedSidecar.Mesh mesh, String serviceAccount, JoinToken token, Path dir,
                                   int firstReplica) throws Exception {
        Files.createDirectories(dir);
        // The trust bundle must hold the mesh CA before the bootstrap: it is what the control plane is checked with.
        Files.copy(mesh.caCertificate(), dir.resolve("ca-bundle.pem"));
        CertificateFiles files = new CertificateFiles(dir.resolve("cert.pem"), dir.resolve("key.pem"),
                dir.resolve("ca-bundle.pem"));
        SimulatedWorkload workload = new SimulatedWorkload(mesh, serviceAccount, token.identity(), files);
        try {
            workload.certificates = WorkloadCertificates.start(workload.client(firstReplica), files, token.identity(),
                    () -> Optional.of(BootstrapToken.joinToken(token.token())), Clock.systemUTC(), () -> { },
                    mesh.bootstrapTimeout());
            return workload;
        } catch (Exception | Error e) {
            workload.close();
            throw e;
        }
    }

    /** The client of the instances that start at replica {@code first}. */
    synchronized ControlPlaneClient client(int first) {
        if (closed) {
            throw new IllegalStateException("workload " + identity + " is closed");
        }
        if (clients[first] == null) {
            List<URI> all = mesh.replicas();
            List<URI> order = new ArrayList<>();
            for (int i = 0; i < all.size(); i++) {
                order.add(all.get((first + i) % all.size()));
            }
            clients[first] = ControlPlaneClient.open(files.clientConfig(order, mesh.serverIdentity()),
                    mesh.httpExecutor());
        }
        return clients[first];
    }

    String serviceAccount() {
        return serviceAccount;
    }

    SpiffeId identity() {
        return identity;
    }

    /** The snapshot verifier its instances share. */
    SnapshotVerifier verifier() {
        return verifier;
    }

    /** HTTP clients made so far (one per replica its instances start at). */
    synchronized int clientCount() {
        int n = 0;
        for (ControlPlaneClient c : clients) {
            n += c == null ? 0 : 1;
        }
        return n;
    }

    /** Stops renewing and closes the clients; close the instances first (they deregister through them). */
    @Override
    public synchronized void close() {
        closed = true;
        try {
            if (certificates != null) {
                certificates.close();
            }
        } finally {
            for (int i = 0; i < clients.length; i++) {
                if (clients[i] != null) {
                    clients[i].close();
                    clients[i] = null;
                }
            }
        }
    }
}
