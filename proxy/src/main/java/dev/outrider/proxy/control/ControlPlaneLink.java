package dev.outrider.proxy.control;

import dev.outrider.core.client.BootstrapToken;
import dev.outrider.core.identity.CertificateBootstrapException;
import dev.outrider.core.identity.CertificateFiles;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.watch.SnapshotWatcher;
import dev.outrider.core.watch.WatchOptions;
import dev.outrider.core.watch.WatchState;
import dev.outrider.core.identity.WorkloadCertificates;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.snapshot.LastKnownGood;
import dev.outrider.core.snapshot.SnapshotVerifier;
import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.ControlPlaneLinkConfig;
import dev.outrider.proxy.config.HostPort;
import dev.outrider.proxy.tls.TlsState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.function.LongSupplier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/**
 * The sidecar's link to the control plane (docs/control-plane.md), in two steps:
 * <ol>
 *   <li>{@link #bootstrap}: before any TLS context exists, make sure the {@code tls} files hold a usable
 *       certificate for this workload (a local key and a CSR authenticated by the join token or the Kubernetes
 *       service-account token, or the files already there), and keep renewing it at half-life; each renewal
 *       makes the {@link TlsState} reload, so new handshakes use the new certificate while open connections
 *       keep theirs.</li>
 *   <li>{@link #watch}: once the inbound listener is bound, apply the last-known-good snapshot (its signature
 *       checked again), register this instance, and long-poll for snapshots, applying each through
 *       {@link SnapshotApplication} and reporting ACK or NACK.</li>
 * </ol>
 * Until a snapshot is in force the sidecar refuses inbound requests; {@link #notReadyReason} says why.
 *
 * <p>Threading: the client's and the watcher's own threads; nothing here runs on an event loop except
 * {@link #notReadyReason}, which reads one immutable state record.
 */
public final class ControlPlaneLink implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlPlaneLink.class);
    /**
     * The last-known-good snapshot's file name in {@code controlPlane.cacheDirectory}; its version floor is beside it
     * ({@code snapshot.jws.floor}).
     */
    static final String CACHE_FILE = "snapshot.jws";

    private final BootstrapConfig config;
    private final ControlPlaneClient client;
    private final WorkloadCertificates certificates;
    /** Set once by {@link #attach}; read by the renewal thread, which makes it reload after a renewal. */
    private final AtomicReference<TlsState> tls;
    /** Set once by {@link #watch}; read by event loops through {@link #notReadyReason}. */
    private volatile SnapshotWatcher watcher;

    private ControlPlaneLink(BootstrapConfig config, ControlPlaneClient client, WorkloadCertificates certificates,
                             AtomicReference<TlsState> tls) {
        this.config = config;
        this.client = client;
        this.certificates = certificates;
        this.tls = tls;
    }

    /**
     * Connects to the control plane and makes sure a usable certificate is on disk, fetching one when needed.
     * Blocks up to {@code controlPlane.bootstrapTimeout}.
     *
     * @throws ControlPlaneLinkException naming the field or cause (no bootstrap token, token refused, unreachable)
     */
    public static ControlPlaneLink bootstrap(BootstrapConfig config) throws InterruptedException {
        requireNonNull(config, "config");
        ControlPlaneLinkConfig cp = requireNonNull(config.controlPlane(), "controlPlane");
        CertificateFiles files = new CertificateFiles(config.tls().certificate(), config.tls().privateKey(),
                config.tls().trustBundle());
        if (!Files.isRegularFile(files.trustBundle())) {
            throw new ControlPlaneLinkException("tls.trustBundle: " + files.trustBundle()
                    + " does not exist; it must hold the mesh CA, to check the control plane before the first"
                    + " certificate is issued");
        }
        ControlPlaneClient client = ControlPlaneClient.open(
                files.clientConfig(cp.urls(), cp.identity()));
        AtomicReference<TlsState> tls = new AtomicReference<>();
        boolean started = false;
        try {
            WorkloadCertificates certs = WorkloadCertificates.start(client, files, config.node().identity(),
                    () -> bootstrapToken(cp), Clock.systemUTC(), () -> {
                        TlsState t = tls.get();
                        if (t != null) {
                            t.reloadSoon();
                        }
                    }, cp.bootstrapTimeout());
            started = true;
            log.info("workload certificate for {} valid until {}, renewed from {} at half-life",
                    config.node().identity(), certs.notAfter(), cp.describeAddresses());
            return new ControlPlaneLink(config, client, certs, tls);
        } catch (CertificateBootstrapException e) {
            throw new ControlPlaneLinkException("no workload certificate from the control plane at " + cp.describeAddresses()
                    + ": " + e.getMessage(), e);
        } finally {
            if (!started) {
                client.close();
            }
        }
    }

    /** The TLS state the certificate renewals feed (reloaded right after each renewal). */
    public void attach(TlsState state) {
        tls.set(requireNonNull(state, "state"));
    }

    /**
     * Applies the last-known-good snapshot (when there is a valid one) before returning, then registers this
     * instance under the advertised address and watches for snapshots.
     *
     * @param inbound the bound inbound listener, advertised when {@code controlPlane.advertise} is not set
     * @param plaintextConnections the inbound plaintext connections accepted so far, reported with each ACK
     * @throws ControlPlaneLinkException when the snapshot keys cannot be read
     */
    public void watch(SnapshotApplication application, InetSocketAddress inbound, LongSupplier plaintextConnections) {
        requireNonNull(application, "application");
        ControlPlaneLinkConfig cp = config.controlPlane();
        SnapshotVerifier verifier = snapshotVerifier(cp.snapshotKeys(), config.node().identity());
        try {
            Files.createDirectories(cp.cacheDirectory());
        } catch (IOException e) {
            throw new ControlPlaneLinkException("controlPlane.cacheDirectory: cannot create " + cp.cacheDirectory()
                    + ": " + e.getMessage(), e);
        }
        LastKnownGood cache = new LastKnownGood(cp.cacheDirectory().resolve(CACHE_FILE), verifier,
                cp.maxSnapshotAge(), Clock.systemUTC());
        HostPort advertised = advertised(cp, inbound);
        String instance = cp.instance() != null ? cp.instance() : defaultInstance(config.node().service(), advertised);
        WatchOptions options = new WatchOptions(config.node().namespace(), config.node().serviceAccount(),
                config.node().service(), instance, advertised.toString(), cp.watchTimeout())
                .reportingPlaintext(plaintextConnections);
        log.info("control plane {}: watching snapshots for {} as instance {} ({} at {})", cp.describeAddresses(),
                config.node().identity(), instance, config.node().service(), advertised);
        watcher = SnapshotWatcher.start(client, verifier, cache, s -> application.apply(s, "control plane"),
                options);
    }

    /**
     * Null when a snapshot is in force; otherwise why not (for {@code /ready}; nothing sensitive). Cheap: reads
     * one immutable record.
     */
    public String notReadyReason() {
        SnapshotWatcher w = watcher;
        if (w == null) {
            return "not watching the control plane yet";
        }
        WatchState s = w.state();
        if (s.hasSnapshot()) {
            return null;
        }
        return "no policy snapshot from the control plane yet"
                + (s.lastError() == null ? "" : " (last error: " + s.lastError() + ")");
    }

    /** The watch state, for {@code /config}; null before {@link #watch}. */
    public WatchState state() {
        SnapshotWatcher w = watcher;
        return w == null ? null : w.state();
    }

    /**
     * The watch's meters (docs/observability.md "Alerts"): {@code outrider_snapshot_version} (the snapshot in force,
     * -1 none), {@code outrider_snapshot_from_control_plane} (1: received from the control plane; 0: the
     * last-known-good file or none), {@code outrider_control_plane_last_contact_age_seconds} (since the control
     * plane last answered; -1 never). Read at scrape time from the watcher's published state.
     */
    public void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
        io.micrometer.core.instrument.Gauge.builder("outrider_snapshot_version", this,
                        l -> l.state() == null ? -1 : l.state().appliedVersion())
                .description("Version of the policy snapshot in force; -1 when none").register(registry);
        io.micrometer.core.instrument.Gauge.builder("outrider_snapshot_from_control_plane", this,
                        l -> l.state() != null && l.state().source() == WatchState.Source.CONTROL_PLANE ? 1 : 0)
                .description("1 when the snapshot in force came from the control plane, 0 when from the"
                        + " last-known-good file or none").register(registry);
        io.micrometer.core.instrument.Gauge.builder("outrider_control_plane_last_contact_age_seconds", this,
                        l -> l.state() == null || l.state().lastContact() == null ? -1
                                : java.time.Duration.between(l.state().lastContact(), java.time.Instant.now())
                                .toMillis() / 1000.0)
                .description("Seconds since the control plane last answered a poll or registration; -1 never")
                .register(registry);
    }

    /** When the certificate in use expires. */
    public java.time.Instant certificateNotAfter() {
        return certificates.notAfter();
    }

    /** Deregisters this instance and stops watching and renewing. */
    @Override
    public void close() {
        try {
            SnapshotWatcher w = watcher;
            if (w != null) {
                w.close();
            }
        } finally {
            try {
                certificates.close();
            } finally {
                client.close();
            }
        }
    }

    /** The control plane's public keys from {@code file}, read again whenever it changes (key rotation). */
    private static SnapshotVerifier snapshotVerifier(Path file, SpiffeId workload) {
        try {
            return SnapshotVerifier.fromFile(file, workload);
        } catch (IOException e) {
            throw new ControlPlaneLinkException("controlPlane.snapshotKeys: cannot read " + file + ": "
                    + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new ControlPlaneLinkException("controlPlane.snapshotKeys: " + e.getMessage(), e);
        }
    }

    /**
     * The bootstrap token, read now from {@code controlPlane.serviceAccountToken} or {@code controlPlane.joinToken}
     * (exclusive): called at each bootstrap attempt, so a projected token the kubelet rotated is read afresh. Empty
     * when neither is set or the file is missing, empty or unusable (then only renewal can work); the token itself
     * is never logged.
     */
    static Optional<BootstrapToken> bootstrapToken(ControlPlaneLinkConfig cp) {
        if (cp.serviceAccountToken() != null) {
            return token(cp.serviceAccountToken(), "controlPlane.serviceAccountToken",
                    BootstrapToken.Kind.SERVICE_ACCOUNT_TOKEN);
        }
        if (cp.joinToken() != null) {
            return token(cp.joinToken(), "controlPlane.joinToken", BootstrapToken.Kind.JOIN_TOKEN);
        }
        return Optional.empty();
    }

    /** The file's content, trimmed, as a token of {@code kind}. */
    private static Optional<BootstrapToken> token(Path file, String field, BootstrapToken.Kind kind) {
        if (!Files.isRegularFile(file)) {
            log.warn("{}: {} does not exist (yet)", field, file);
            return Optional.empty();
        }
        try {
            String token = Files.readString(file, StandardCharsets.US_ASCII).strip();
            return token.isEmpty() ? Optional.empty() : Optional.of(new BootstrapToken(kind, token));
        } catch (IOException e) {
            log.warn("{}: cannot read {}: {}", field, file, e.getMessage());
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            log.warn("{}: {}: {}", field, file, e.getMessage()); // names the shape problem, never the token
            return Optional.empty();
        }
    }

    /** {@code controlPlane.advertise}, else the bound inbound address (loopback for a wildcard listener). */
    static HostPort advertised(ControlPlaneLinkConfig cp, InetSocketAddress inbound) {
        if (cp.advertise() != null) {
            return cp.advertise();
        }
        String host = inbound.getAddress().isAnyLocalAddress() ? "127.0.0.1" : inbound.getAddress().getHostAddress();
        if (inbound.getAddress().isAnyLocalAddress()) {
            log.warn("controlPlane.advertise is not set and the inbound listener is a wildcard: advertising {}:{};"
                    + " set controlPlane.advertise to the address other sidecars reach this one on", host,
                    inbound.getPort());
        }
        return new HostPort(host, inbound.getPort());
    }

    /**
     * In Kubernetes ({@code KUBERNETES_SERVICE_HOST} set) the pod name ({@code HOSTNAME}) when it is a DNS label;
     * else {@code <service>-<advertised port>}, which differs between sidecars sharing one host.
     */
    static String defaultInstance(String service, HostPort advertised) {
        String hostname = System.getenv("HOSTNAME");
        if (System.getenv("KUBERNETES_SERVICE_HOST") != null && hostname != null && DnsLabel.isValid(hostname)) {
            return hostname;
        }
        return service + "-" + advertised.port();
    }
}
