package dev.outrider.proxy.tls;

import dev.outrider.proxy.accesslog.SecurityEvents;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.proxy.config.TlsConfig;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.ssl.OpenSslSessionTicketKey;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static java.util.Objects.requireNonNull;

/**
 * The TLS contexts in use and their renewal. Every new handshake reads {@link #current()} once; a reload
 * swaps the reference, so new handshakes use new material while established connections keep theirs.
 *
 * <p>One daemon thread (never an event loop) polls the three files every {@code reloadInterval}: a change of
 * their bytes (a Kubernetes secret's symlink swap or a replaced file) loads and checks the new material; if
 * it is unusable, the old material stays and the reason is logged and counted. The same thread rotates the
 * session-ticket keys.
 */
public final class TlsState implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(TlsState.class);

    private final TlsConfig config;
    private final SpiffeId identity;
    private final SslProvider provider;
    private final TlsMetrics metrics;
    private final SecurityEvents securityEvents;
    private final AtomicReference<TlsContexts> current = new AtomicReference<>();
    private final ScheduledExecutorService worker;
    private final SecureRandom random = new SecureRandom();
    /** Worker thread only: the key encrypting new tickets, and the one before it (still decrypts). */
    private OpenSslSessionTicketKey ticketKey;
    private OpenSslSessionTicketKey previousTicketKey;
    /** Worker thread only: the fingerprint of the files as last seen, loaded or not. */
    private String lastSeen;

    private TlsState(TlsConfig config, SpiffeId identity, SslProvider provider, TlsMetrics metrics,
                     SecurityEvents securityEvents, TlsContexts initial) {
        this.config = config;
        this.identity = identity;
        this.provider = provider;
        this.metrics = metrics;
        this.securityEvents = securityEvents;
        this.current.set(initial);
        this.lastSeen = initial.material().fingerprint();
        this.worker = Executors.newSingleThreadScheduledExecutor(new DefaultThreadFactory("outrider-tls", true));
    }

    /**
     * Loads the material (a {@link TlsMaterialException} names the field and problem), builds the contexts
     * and starts watching the files.
     */
    public static TlsState start(TlsConfig config, SpiffeId identity, MeterRegistry registry)
            throws TlsMaterialException, SSLException {
        return start(config, identity, registry, SecurityEvents.disabled());
    }

    /**
     * As {@link #start(TlsConfig, SpiffeId, MeterRegistry)}; refused handshakes, in both directions, are also
     * recorded in {@code securityEvents} where they are counted.
     */
    public static TlsState start(TlsConfig config, SpiffeId identity, MeterRegistry registry,
                                 SecurityEvents securityEvents) throws TlsMaterialException, SSLException {
        requireNonNull(config, "config");
        requireNonNull(securityEvents, "securityEvents");
        requireNonNull(identity, "identity");
        SslProvider provider = TlsContexts.provider(config.provider());
        if (config.provider() == TlsConfig.TlsProvider.AUTO && provider == SslProvider.JDK) {
            log.warn("BoringSSL (netty-tcnative) is not available ({}); using the JDK's TLS provider",
                    String.valueOf(io.netty.handler.ssl.OpenSsl.unavailabilityCause()));
        }
        TlsMaterial material = TlsMaterial.load(config, identity);
        TlsState state = new TlsState(config, identity, provider, new TlsMetrics(registry), securityEvents,
                TlsContexts.build(config, material, provider));
        Gauge.builder("outrider_tls_certificate_expiry_seconds", state,
                        s -> s.current().material().notAfter().getEpochSecond() - Instant.now().getEpochSecond())
                .description("Seconds until the workload certificate in use expires")
                .register(registry);
        Gauge.builder("outrider_tls_trust_bundle_expiry_seconds", state,
                        s -> s.current().material().roots().stream().mapToLong(c -> c.getNotAfter().toInstant()
                                .getEpochSecond()).min().orElse(0) - Instant.now().getEpochSecond())
                .description("Seconds until the first mesh CA certificate of the trust bundle in use expires")
                .register(registry);
        state.rotateTicketKey();
        long reloadMillis = config.reloadInterval().toMillis();
        state.worker.scheduleWithFixedDelay(state::checkFiles, reloadMillis, reloadMillis, TimeUnit.MILLISECONDS);
        long rotateMillis = config.ticketKeyRotation().toMillis();
        state.worker.scheduleWithFixedDelay(state::rotateTicketKey, rotateMillis, rotateMillis, TimeUnit.MILLISECONDS);
        log.info("mTLS on: identity {}, certificate valid until {}, provider {}", identity,
                material.notAfter(), provider == SslProvider.OPENSSL ? "BoringSSL" : "JDK");
        return state;
    }

    public TlsContexts current() {
        return current.get();
    }

    public TlsMetrics metrics() {
        return metrics;
    }

    /** Where refused handshakes are recorded (the security event stream). */
    public SecurityEvents securityEvents() {
        return securityEvents;
    }

    public SpiffeId identity() {
        return identity;
    }

    public SslProvider provider() {
        return provider;
    }

    public TlsConfig config() {
        return config;
    }

    /**
     * Checks the files now instead of at the next poll (the control-plane client calls this after writing a
     * renewed certificate). Runs on the worker thread; returns at once.
     */
    public void reloadSoon() {
        try {
            worker.execute(this::checkFiles);
        } catch (java.util.concurrent.RejectedExecutionException closed) {
            // closing: nothing to reload
        }
    }

    /** Reload check; runs on the worker thread. Public for tests that do not want to wait a poll. */
    void checkFiles() {
        String seen;
        try {
            seen = TlsMaterial.fingerprint(config);
        } catch (IOException e) {
            if (!"unreadable".equals(lastSeen)) {
                log.warn("TLS files unreadable ({}); keeping the material in use", e.toString());
                metrics.reloadFailed(TlsMaterialException.Reason.UNREADABLE);
                lastSeen = "unreadable";
            }
            return;
        }
        if (seen.equals(lastSeen)) {
            return;
        }
        lastSeen = seen;
        try {
            TlsMaterial material = TlsMaterial.load(config, identity);
            TlsContexts contexts = TlsContexts.build(config, material, provider);
            // Fresh ticket keys with new material: a session resumed from an older ticket would skip the
            // certificate check against the new trust bundle (a root just removed would still let its
            // clients in). New material means one full handshake per caller, once.
            previousTicketKey = null;
            ticketKey = TlsContexts.newTicketKey(random);
            contexts.setTicketKeys(ticketKey, null);
            current.set(contexts);
            metrics.reloaded();
            log.info("new TLS material in use: certificate serial {} valid until {}",
                    material.leaf().getSerialNumber().toString(16), material.notAfter());
        } catch (TlsMaterialException e) {
            metrics.reloadFailed(e.reason());
            log.warn("new TLS material refused, keeping the material in use: {}", e.getMessage());
        } catch (SSLException | RuntimeException e) {
            metrics.reloadFailed(TlsMaterialException.Reason.BAD_PEM);
            log.warn("new TLS material refused, keeping the material in use: {}", e.toString());
        }
    }

    private void rotateTicketKey() {
        previousTicketKey = ticketKey;
        ticketKey = TlsContexts.newTicketKey(random);
        current().setTicketKeys(ticketKey, previousTicketKey);
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
