package dev.outrider.core.client;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP side of {@link ControlPlaneClient}: the JDK {@link HttpClient}s (HTTP/1.1, TLS 1.3, host name check, no
 * proxy, no redirects), rebuilt when the TLS files' bytes change ({@link ClientTls}); the one in use finishes its
 * requests and shuts down. Two clients from one material: with the client certificate (when there is a usable
 * one) and without (join-token requests, or no certificate yet), built lazily. New files without a usable client
 * certificate do not replace a certificate still valid (a renewal seen between its key and its certificate).
 *
 * <p>Several control-plane addresses: calls go to one at a time; a call without an answer (refused, reset, timed
 * out, TLS refused) moves later calls to the next, in order and round.
 *
 * <p>Thread-safe: the material and clients are guarded by {@link #lock}; requests run on the HTTP clients'
 * selector threads and one cached daemon pool ({@code outrider-control-client-N}), all ended by {@link #close()};
 * or, when the caller gives one, on its executor, which {@link #close()} leaves running (it is the caller's).
 */
final class HttpTransport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpTransport.class);
    /** The largest answer read: a snapshot may be 16 MiB ({@link dev.outrider.core.snapshot.SnapshotVerifier}). */
    static final long MAX_ANSWER_BYTES = 17L * 1024 * 1024;

    private final ControlPlaneClientConfig config;
    private final ClientTls tls;
    private final Clock clock;
    /** Where the HTTP clients run their asynchronous work: {@link #ownExecutor}, or the caller's. */
    private final Executor executor;
    /** The pool this transport made and shuts down on {@link #close()}; null when the caller gave the executor. */
    private final ExecutorService ownExecutor;
    private final Object lock = new Object();
    /** Index (modulo the count) of the address calls go to; moved on by {@link #failed}. */
    private final AtomicInteger current = new AtomicInteger();
    /** Guarded by {@link #lock}: the material in use and the HTTP clients built from it (lazily). */
    private ClientTls.Material material;
    private HttpClient mutual;
    private HttpClient anonymous;
    private String reportedProblem;
    /** Files refused while a still-valid certificate stays in use; not re-read until their bytes change again. */
    private byte[] refused;
    private boolean closed;

    private HttpTransport(ControlPlaneClientConfig config, ClientTls tls, Clock clock, ClientTls.Material material,
                          Executor executor) {
        this.config = config;
        this.tls = tls;
        this.clock = clock;
        this.material = material;
        if (executor == null) {
            AtomicInteger threads = new AtomicInteger();
            this.ownExecutor = Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "outrider-control-client-" + threads.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            this.executor = ownExecutor;
        } else {
            this.ownExecutor = null;
            this.executor = executor;
        }
    }

    /**
     * @param executor where the HTTP clients run their asynchronous work, or null for a pool of this transport's
     *                 own (ended by {@link #close()}; a given executor is left running)
     * @throws IllegalArgumentException when the trust bundle cannot be read or holds no certificate (named)
     */
    static HttpTransport open(ControlPlaneClientConfig config, Clock clock, Executor executor) {
        ClientTls tls = new ClientTls(config.trustBundle(), config.certificate(), config.privateKey(),
                config.serverIdentity());
        ClientTls.Material material;
        try {
            material = tls.load(null, null, clock.instant());
        } catch (IOException e) {
            throw new IllegalArgumentException("trust bundle " + config.trustBundle() + " cannot be read: " + e, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(e.getMessage(), e); // names the file
        }
        if (material.clientProblem() != null) {
            log.info("control-plane client: {}; connecting without a client certificate", material.clientProblem());
        }
        return new HttpTransport(config, tls, clock, material, executor);
    }

    /** The address calls go to now: the first of the configured ones that has not failed since (see {@link #failed}). */
    URI server() {
        return config.servers().get(Math.floorMod(current.get(), config.servers().size()));
    }

    HttpRequest.Builder request(String pathAndQuery) {
        return HttpRequest.newBuilder(URI.create(server() + pathAndQuery))
                .timeout(config.requestTimeout())
                .header("Accept", "application/json, application/jose")
                .header("User-Agent", "outrider-control-client");
    }

    /** Sends and waits; the status must be one of {@code expected}, otherwise the server's error is thrown. */
    HttpResponse<byte[]> call(String call, HttpRequest.Builder request, boolean anonymousOnly, String token,
                              int... expected) {
        HttpResponse<byte[]> answer;
        try {
            answer = send(call, request, anonymousOnly, token).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof ControlPlaneException c) {
                throw c;
            }
            throw ControlPlaneException.unreachable(call, server(), e.getCause() == null ? e : e.getCause());
        }
        for (int status : expected) {
            if (answer.statusCode() == status) {
                return answer;
            }
        }
        if (answer.statusCode() >= 200 && answer.statusCode() < 300) {
            throw ControlPlaneException.badResponse(call, answer.statusCode(), "status not in the contract");
        }
        throw ApiAnswers.error(call, answer.statusCode(), answer.body());
    }

    /**
     * The answer, whatever its status; fails with {@link ControlPlaneException#unreachable()} when there is none.
     * {@code token} (a join or service-account token) overrides the configured bearer token and goes without the client certificate.
     * Cancelling the future aborts the exchange.
     */
    CompletableFuture<HttpResponse<byte[]>> send(String call, HttpRequest.Builder request, boolean anonymousOnly,
                                                 String token) {
        String bearer = token != null ? token : config.bearerToken();
        if (bearer != null) {
            request.setHeader("Authorization", "Bearer " + bearer);
        }
        HttpClient client = httpClient(anonymousOnly || token != null);
        HttpRequest built = request.build();
        int attempt = current.get();
        CompletableFuture<HttpResponse<byte[]>> exchange = client.sendAsync(built,
                BodyHandlers.limiting(BodyHandlers.ofByteArray(), MAX_ANSWER_BYTES));
        return propagateCancel(exchange, exchange.exceptionallyCompose(e -> {
            Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
            URI server = URI.create(built.uri().getScheme() + "://" + built.uri().getRawAuthority());
            // A cancelled call (a watcher closing) is no failure of the address. The HTTP client may complete the
            // exchange with its own CancellationException before the caller's cancel reaches this future.
            if (!exchange.isCancelled() && !(cause instanceof CancellationException)) {
                failed(attempt, server, call, cause);
            }
            return CompletableFuture.failedFuture(ControlPlaneException.unreachable(call, server, cause));
        }));
    }

    /**
     * No answer from {@code server}: later calls go to the next configured address (unless another failure moved
     * on already). The caller's own retry (back-off) then reaches the next replica; a snapshot watch keeps its
     * version and resumes there without downloading what it holds.
     */
    private void failed(int attempt, URI server, String call, Throwable cause) {
        if (config.servers().size() > 1 && current.compareAndSet(attempt, attempt + 1)) {
            log.warn("control-plane client: {} unreachable on {} ({}); moving to {}", server, call, cause.toString(),
                    server());
        }
    }

    /** Cancelling {@code downstream} cancels {@code upstream} (for the HTTP client: aborts the exchange). */
    static <T> CompletableFuture<T> propagateCancel(CompletableFuture<?> upstream, CompletableFuture<T> downstream) {
        downstream.whenComplete((result, failure) -> {
            if (downstream.isCancelled()) {
                upstream.cancel(true);
            }
        });
        return downstream;
    }

    /** The HTTP client for the next request, after looking at the TLS files. */
    private HttpClient httpClient(boolean anonymousOnly) {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("control-plane client is closed");
            }
            refresh();
            boolean useCertificate = !anonymousOnly && material.mutual() != null
                    && clock.instant().isBefore(material.clientNotAfter());
            if (useCertificate) {
                if (mutual == null) {
                    mutual = build(material.mutual());
                }
                return mutual;
            }
            if (anonymous == null) {
                anonymous = build(material.anonymous());
            }
            return anonymous;
        }
    }

    /** Under {@link #lock}: new material when the files' bytes changed; the old clients finish and stop. */
    private void refresh() {
        ClientTls.Material next;
        try {
            next = tls.load(material, refused, clock.instant());
        } catch (IOException | GeneralSecurityException e) {
            String problem = "TLS files unusable (" + e + ")";
            if (!problem.equals(reportedProblem)) {
                log.warn("control-plane client: {}; keeping the material in use", problem);
                reportedProblem = problem;
            }
            return;
        }
        if (next == null) {
            return;
        }
        if (next.mutual() == null && config.certificate() != null && material.mutual() != null
                && clock.instant().isBefore(material.clientNotAfter())) {
            // A renewal half-written (new key, old certificate) or a broken file: the certificate in use stays, as
            // the proxy's TLS reloader keeps its material; the next change of the files is looked at again.
            refused = next.fingerprint();
            log.warn("control-plane client: new client certificate files not usable ({}); keeping the certificate"
                    + " in use, valid until {}", next.clientProblem(), material.clientNotAfter());
            return;
        }
        refused = null;
        if (next.mutual() != null) {
            log.info("control-plane client: client certificate {} in use, valid until {}", config.certificate(),
                    next.clientNotAfter());
        } else if (!Objects.equals(next.clientProblem(), material.clientProblem())) {
            log.info("control-plane client: {}; connecting without a client certificate", next.clientProblem());
        }
        reportedProblem = null;
        shutdownClients();
        material = next;
    }

    private HttpClient build(SSLContext context) {
        SSLParameters parameters = new SSLParameters();
        parameters.setProtocols(new String[] {ClientTls.PROTOCOL});
        parameters.setEndpointIdentificationAlgorithm("HTTPS"); // host name check (RFC 9110 §4.3.4)
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(config.connectTimeout())
                .sslContext(context)
                .sslParameters(parameters)
                .followRedirects(HttpClient.Redirect.NEVER)
                .proxy(HttpClient.Builder.NO_PROXY)
                .executor(executor)
                .build();
    }

    private void shutdownClients() {
        if (mutual != null) {
            mutual.shutdown(); // requests in flight (a long poll) complete on the old connection
            mutual = null;
        }
        if (anonymous != null) {
            anonymous.shutdown();
            anonymous = null;
        }
    }

    /** Stops at once: calls in flight fail, threads end. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (mutual != null) {
                mutual.shutdownNow();
            }
            if (anonymous != null) {
                anonymous.shutdownNow();
            }
            mutual = null;
            anonymous = null;
        }
        if (ownExecutor != null) {
            ownExecutor.shutdownNow();
        }
    }
}
