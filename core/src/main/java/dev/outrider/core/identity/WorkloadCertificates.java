package dev.outrider.core.identity;

import dev.outrider.core.client.Backoff;
import dev.outrider.core.client.BootstrapToken;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.client.ControlPlaneException;
import dev.outrider.core.client.IssuedCertificate;
import dev.outrider.core.identity.CertificateBootstrapException.Reason;
import dev.outrider.core.identity.CertificateStatus.State;
import dev.outrider.core.model.SpiffeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

import static java.util.Objects.requireNonNull;

/**
 * The sidecar's workload certificate: bootstrap, then renewal at half-life, for as long as it runs.
 *
 * <pre>
 *  start()  ── files FRESH (valid, this identity, matches key, chains to bundle, before half-life) ──▶ use them
 *     │        (no network call)
 *     ├── AGING (valid, past half-life): one renewal with mTLS; on failure keep them, retry on the renewer thread
 *     └── UNUSABLE: new key + CSR, POST with the bootstrap token (join token or Kubernetes service-account
 *         token, read afresh at each attempt); retried with backoff until bootstrapTimeout
 *  renewer thread (daemon, "outrider-certificates"): at half-life + jitter (of the lifetime left on arrival, for a
 *     certificate obtained here): new key + CSR, POST with mTLS (the current certificate; the bootstrap token once
 *     mTLS is refused or the certificate expired); install; onRenewed; on failure log, lastError, retry with backoff.
 * </pre>
 * Installing checks the issued certificate and writes bundle, key (0600) and certificate, in that order, each
 * atomically ({@link CertificateInstaller} explains why this order). {@code onRenewed} then lets the proxy reload
 * its TLS contexts at once; the {@link ControlPlaneClient} notices the new files by itself.
 *
 * <p>The client should be made with {@link CertificateFiles#clientConfig} over the same files, so that
 * renewals authenticate with the current certificate. Neither keys nor tokens are ever logged.
 *
 * <p>Threads: {@link #start} runs the bootstrap on the caller's thread (blocking, never an event loop); afterwards
 * only the renewer thread renews. {@link #notAfter()}, {@link #lastError()} and {@link #nextRenewal()} may be read
 * from any thread.
 */
public final class WorkloadCertificates implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WorkloadCertificates.class);
    /** The jitter added to half-life is at most 5 % of the lifetime and at most this. */
    static final Duration MAX_JITTER = Duration.ofMinutes(10);

    private final ControlPlaneClient client;
    private final CertificateFiles files;
    private final SpiffeId identity;
    private final Supplier<Optional<BootstrapToken>> bootstrapToken;
    private final Clock clock;
    private final Runnable onRenewed;
    private final RandomGenerator random;
    private final ScheduledExecutorService renewer;
    /*
     * The bootstrap thread until start() returns, then the renewer thread only (scheduling a task hands them over
     * with a happens-before edge): no volatile needed.
     */
    private final Backoff backoff;
    /** The last renewal with the current certificate was refused (401/403): the next one tries the bootstrap token. */
    private boolean certificateRefused;

    private volatile Instant notAfter;
    private volatile Instant nextRenewal;
    private volatile String lastError;

    private WorkloadCertificates(ControlPlaneClient client, CertificateFiles files, SpiffeId identity,
                                 Supplier<Optional<BootstrapToken>> bootstrapToken, Clock clock, Runnable onRenewed,
                                 RandomGenerator random, Backoff backoff) {
        this.client = client;
        this.files = files;
        this.identity = identity;
        this.bootstrapToken = bootstrapToken;
        this.clock = clock;
        this.onRenewed = onRenewed;
        this.random = random;
        this.backoff = backoff;
        this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "outrider-certificates");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Returns once {@code files} hold a usable certificate for {@code identity}, fetching one if needed, and starts
     * renewing it.
     *
     * @param bootstrapToken   called only when a bootstrap token is needed, at each such attempt (so a rotated
     *                         service-account token file is read afresh); empty when there is none (yet)
     * @param onRenewed        called after each installation of new files: during start on the caller's thread
     *                         (not when the files were usable already), then on the renewer thread; its exceptions
     *                         are logged
     * @param bootstrapTimeout how long to keep trying when there is no usable certificate
     * @throws CertificateBootstrapException naming why there is no usable certificate (no bootstrap token, token
     *                                       refused, control plane unreachable, ...)
     */
    public static WorkloadCertificates start(ControlPlaneClient client, CertificateFiles files, SpiffeId identity,
                                             Supplier<Optional<BootstrapToken>> bootstrapToken, Clock clock,
                                             Runnable onRenewed, Duration bootstrapTimeout)
            throws CertificateBootstrapException, InterruptedException {
        return start(client, files, identity, bootstrapToken, clock, onRenewed, bootstrapTimeout,
                RandomGenerator.getDefault(), Backoff.standard());
    }

    static WorkloadCertificates start(ControlPlaneClient client, CertificateFiles files, SpiffeId identity,
                                      Supplier<Optional<BootstrapToken>> bootstrapToken, Clock clock,
                                      Runnable onRenewed, Duration bootstrapTimeout, RandomGenerator random,
                                      Backoff backoff)
            throws CertificateBootstrapException, InterruptedException {
        requireNonNull(bootstrapTimeout, "bootstrapTimeout");
        WorkloadCertificates w = new WorkloadCertificates(requireNonNull(client, "client"), requireNonNull(files, "files"),
                requireNonNull(identity, "identity"), requireNonNull(bootstrapToken, "bootstrapToken"),
                requireNonNull(clock, "clock"), requireNonNull(onRenewed, "onRenewed"), requireNonNull(random, "random"),
                requireNonNull(backoff, "backoff"));
        try {
            w.bootstrap(bootstrapTimeout);
            return w;
        } catch (CertificateBootstrapException | InterruptedException | RuntimeException e) {
            w.close();
            throw e;
        }
    }

    private void bootstrap(Duration timeout) throws CertificateBootstrapException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            CertificateStatus status = CertificateStatus.of(files, identity, clock.instant());
            if (status.state() == State.FRESH) {
                log.info("workload certificate for {} in {} is valid until {}", identity, files.certificate(),
                        status.notAfter());
                notAfter = status.notAfter();
                scheduleRenewal(status.notBefore(), status.notAfter());
                return;
            }
            try {
                X509Certificate leaf = obtain(status);
                scheduleRenewalOfObtained(leaf);
                return;
            } catch (CertificateBootstrapException e) {
                if (status.state() == State.AGING) {
                    // Still valid: start with it and keep trying on the renewer thread.
                    notAfter = status.notAfter();
                    retryLater(e.getMessage());
                    return;
                }
                if (e.reason() == Reason.TOKEN_REFUSED || e.reason() == Reason.REFUSED) {
                    throw e;
                }
                Duration delay = backoff.next(ControlPlaneException.refused(e.getCause()));
                if (System.nanoTime() + delay.toNanos() - deadline > 0) {
                    throw new CertificateBootstrapException(e.reason(), "no usable certificate for " + identity
                            + " after " + timeout.toSeconds() + "s: " + e.getMessage(), e.getCause());
                }
                lastError = e.getMessage();
                log.info("no usable certificate for {} yet ({}); trying again in {} ms", identity, e.getMessage(),
                        delay.toMillis());
                Thread.sleep(delay.toMillis());
            }
        }
    }

    /** One request for a new certificate, installed on success. */
    private X509Certificate obtain(CertificateStatus status) throws CertificateBootstrapException {
        boolean withCertificate = status.state() != State.UNUSABLE && !certificateRefused;
        BootstrapToken token = null;
        if (!withCertificate) {
            token = bootstrapToken.get().orElse(null);
            if (token == null) {
                certificateRefused = false; // nothing else to try: the certificate again next time
                throw new CertificateBootstrapException(Reason.NO_BOOTSTRAP_TOKEN, (status.state() == State.UNUSABLE
                        ? "no usable certificate (" + status.problem() + ")"
                        : "the current certificate was refused for renewal")
                        + " and no bootstrap token (join token or service-account token)", null);
            }
        }
        CertificateRequests.KeyAndCsr request = CertificateRequests.create(identity);
        IssuedCertificate issued;
        try {
            issued = client.requestCertificate(request.csrPem(), token);
        } catch (ControlPlaneException e) {
            if (e.retryable()) {
                throw new CertificateBootstrapException(Reason.UNREACHABLE, e.getMessage(), e);
            }
            if (e.status() == 401 || e.status() == 403) {
                certificateRefused |= withCertificate;
                throw new CertificateBootstrapException(Reason.TOKEN_REFUSED, (withCertificate
                        ? "renewal with the current certificate refused: " : token.kind().text() + " refused: ")
                        + e.getMessage(), e);
            }
            throw new CertificateBootstrapException(Reason.REFUSED, "certificate request refused: " + e.getMessage(), e);
        }
        X509Certificate leaf;
        try {
            leaf = CertificateInstaller.install(files, identity, request.keys(), issued, clock.instant());
        } catch (CertificateException | IOException e) {
            throw new CertificateBootstrapException(Reason.INSTALL_FAILED, "issued certificate not installed: "
                    + e.getMessage(), e);
        }
        certificateRefused = false;
        backoff.reset();
        lastError = null;
        notAfter = leaf.getNotAfter().toInstant();
        log.info("new workload certificate for {} (serial {}) installed in {}, valid until {}", identity,
                leaf.getSerialNumber().toString(16), files.certificate(), notAfter);
        try {
            onRenewed.run();
        } catch (RuntimeException e) {
            log.warn("reloading after the certificate renewal failed", e);
        }
        return leaf;
    }

    /** At half-life plus a jitter of up to 5 % of the lifetime (at most {@link #MAX_JITTER}). */
    private void scheduleRenewal(Instant notBefore, Instant notAfter) {
        schedule(renewalTime(notBefore, notAfter, random));
    }

    /**
     * A certificate just obtained: at half of the lifetime it has from now on (plus jitter). Counted from notBefore,
     * which the CA backdates by a minute for clock skew, a one-minute certificate would be at half-life the moment
     * it arrives and be renewed again at once, and again, every few seconds; files found on disk are scheduled from
     * notBefore ({@link #scheduleRenewal}), since when they arrived is not known.
     */
    private void scheduleRenewalOfObtained(X509Certificate leaf) {
        Instant notBefore = leaf.getNotBefore().toInstant();
        Instant now = clock.instant();
        scheduleRenewal(now.isAfter(notBefore) ? now : notBefore, leaf.getNotAfter().toInstant());
    }

    static Instant renewalTime(Instant notBefore, Instant notAfter, RandomGenerator random) {
        long maxJitter = Math.min(Duration.between(notBefore, notAfter).toMillis() / 20, MAX_JITTER.toMillis());
        return CertificateStatus.halfLife(notBefore, notAfter).plusMillis(maxJitter <= 0 ? 0 : random.nextLong(maxJitter + 1));
    }

    private void retryLater(String error) {
        lastError = error;
        Duration delay = backoff.next();
        log.warn("workload certificate renewal failed, trying again in {} ms: {}", delay.toMillis(), error);
        schedule(clock.instant().plus(delay));
    }

    private void schedule(Instant at) {
        nextRenewal = at;
        long delay = Math.max(0, Duration.between(clock.instant(), at).toMillis());
        if (!renewer.isShutdown()) {
            renewer.schedule(this::renew, delay, TimeUnit.MILLISECONDS);
        }
    }

    /** On the renewer thread. */
    private void renew() {
        try {
            CertificateStatus status = CertificateStatus.of(files, identity, clock.instant());
            if (status.state() == State.FRESH && !certificateRefused) {
                notAfter = status.notAfter(); // renewed by someone else, or the clock went back
                scheduleRenewal(status.notBefore(), status.notAfter());
                return;
            }
            X509Certificate leaf = obtain(status);
            scheduleRenewalOfObtained(leaf);
        } catch (CertificateBootstrapException e) {
            retryLater(e.getMessage());
        } catch (RuntimeException e) {
            retryLater(e.toString());
        }
    }

    /** The expiry of the certificate in use. */
    public Instant notAfter() {
        return notAfter;
    }

    /** When the next renewal (or retry) is due. */
    public Instant nextRenewal() {
        return nextRenewal;
    }

    /** Why the last attempt failed; empty after a success. */
    public Optional<String> lastError() {
        return Optional.ofNullable(lastError);
    }

    /** Stops renewing; the files stay. */
    @Override
    public void close() {
        renewer.shutdownNow();
    }
}
