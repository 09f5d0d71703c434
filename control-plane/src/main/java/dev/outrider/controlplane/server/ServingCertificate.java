package dev.outrider.controlplane.server;

import dev.outrider.controlplane.ca.CaException;
import dev.outrider.controlplane.ca.SignedCertificate;
import dev.outrider.controlplane.ca.WorkloadCa;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static java.util.Objects.requireNonNull;

/**
 * The control plane's own serving certificate: a fresh EC P-256 key (never written to disk) and a certificate
 * from the control plane's CA for {@code spiffe://<td>/ns/outrider-system/sa/control-plane} plus the
 * {@code --server-name} DNS/IP SANs. Renewed at half-life with a new key; the new {@link SslContext} serves
 * new handshakes, connections already open keep theirs.
 *
 * <pre>
 *   issue ──▶ current = (context, certificate) ──schedule at notBefore + lifetime/2──▶ renew ──▶ current = ...
 *                                                  failure: retry in a minute (logged), until it works
 * </pre>
 *
 * <p>Threading: {@link #get()} is called by event loops for every new connection; {@code current} is
 * volatile and replaced whole (context and certificate together). Renewal runs on the given scheduler,
 * never on an event loop (key generation and signing take milliseconds).
 */
public final class ServingCertificate implements Supplier<SslContext>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServingCertificate.class);
    static final Duration RETRY = Duration.ofMinutes(1);

    private record Current(SslContext context, X509Certificate certificate) {
    }

    private final WorkloadCa ca;
    private final WorkloadIdentity identity;
    private final List<String> serverNames;
    private final Duration ttl;
    private final SslProvider provider;
    private final ScheduledExecutorService scheduler;
    private final Clock clock;
    private volatile Current current;
    /** Guarded by this. */
    private ScheduledFuture<?> renewal;
    /** Guarded by this. */
    private boolean closed;

    private ServingCertificate(WorkloadCa ca, WorkloadIdentity identity, List<String> serverNames, Duration ttl,
                               SslProvider provider, ScheduledExecutorService scheduler, Clock clock) {
        this.ca = ca;
        this.identity = identity;
        this.serverNames = serverNames;
        this.ttl = ttl;
        this.provider = provider;
        this.scheduler = scheduler;
        this.clock = clock;
    }

    /** Issues the first certificate now (failing start-up when it cannot) and schedules its renewal. */
    public static ServingCertificate start(WorkloadCa ca, WorkloadIdentity identity, List<String> serverNames,
                                           Duration ttl, ServerTls.Provider provider,
                                           ScheduledExecutorService scheduler, Clock clock)
            throws CaException, SSLException {
        ServingCertificate serving = new ServingCertificate(requireNonNull(ca, "ca"), requireNonNull(identity, "identity"),
                List.copyOf(serverNames), requireNonNull(ttl, "ttl"), requireNonNull(provider, "provider").resolve(),
                requireNonNull(scheduler, "scheduler"), requireNonNull(clock, "clock"));
        serving.current = serving.issue();
        serving.scheduleRenewal(renewAt(serving.certificate()));
        return serving;
    }

    /** The context for a new connection. */
    @Override
    public SslContext get() {
        return current.context();
    }

    public X509Certificate certificate() {
        return current.certificate();
    }

    /** Which TLS implementation serves ({@code OPENSSL} or {@code JDK}). */
    public SslProvider provider() {
        return provider;
    }

    /** Half-way through the certificate's lifetime (RFC-less, as every sidecar renews too). */
    static Instant renewAt(X509Certificate certificate) {
        Instant notBefore = certificate.getNotBefore().toInstant();
        Instant notAfter = certificate.getNotAfter().toInstant();
        return notBefore.plus(Duration.between(notBefore, notAfter).dividedBy(2));
    }

    /** Issues a new key and certificate and swaps them in for new handshakes; package-private for tests. */
    void renew() throws CaException, SSLException {
        Current next = issue();
        current = next;
        log.info("control-plane serving certificate renewed: serial {}, valid until {}",
                next.certificate().getSerialNumber().toString(16), next.certificate().getNotAfter().toInstant());
    }

    private Current issue() throws CaException, SSLException {
        KeyPair keys;
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            keys = generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK generates P-256 keys", e);
        }
        SignedCertificate issued = ca.issueServing(keys.getPublic(), identity, serverNames, ttl);
        List<X509Certificate> chain = issued.chain();
        SslContext context = ServerTls.serverContext(keys.getPrivate(), chain, chain.getLast(), provider);
        return new Current(context, issued.certificate());
    }

    private synchronized void scheduleRenewal(Instant at) {
        if (closed) {
            return;
        }
        long delay = Math.max(0, Duration.between(clock.instant(), at).toMillis());
        renewal = scheduler.schedule(this::renewNow, delay, TimeUnit.MILLISECONDS);
    }

    private void renewNow() {
        try {
            renew();
            scheduleRenewal(renewAt(certificate()));
        } catch (CaException | SSLException | RuntimeException e) {
            log.error("control-plane serving certificate renewal failed (retrying in {}): {}", RETRY, e.getMessage());
            scheduleRenewal(clock.instant().plus(RETRY));
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (renewal != null) {
            renewal.cancel(false);
        }
    }
}
