package dev.outrider.core.client;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * The HTTP side of {@link ControlPlaneClient}: the JDK {@link HttpClient}s (HTTP/1.1, TLS 1.3, host name check, no
 * proxy, no redirects), rebuilt when the TLS files' bytes change ({@link ClientTls}); the one in use finishes its
 * requests and shuts down. Two clients from one material: with the client certificate (when there is a usable
 * one) and without (join-token requests, or no certificate yet), built lazily. New files without a usable client
 * certificate do not replace a certificate still valid (a renewal seen between its key and its certificate).
 *
 * <p>Several control-plane addresses: calls go to one at a time; a call without an answer (refused, reset, timed
 * out, TLS refused) moves later calls to the next, in order and round. A configured host name that resolves to
 * several addresses counts as that many addresses, in the resolver's order ({@link Target}): the connection goes to
 * the address, while TLS still names the host (SNI) and the server certificate is checked against the host name, as
 * for a call to the name. The name is resolved again after each call one of its addresses did not answer, so
 * replicas that moved are found.
 *
 * <p>Thread-safe: the material and clients are guarded by {@link #lock}; requests run on the HTTP clients'
 * selector threads and one cached daemon pool ({@code outrider-control-client-N}), all ended by {@link #close()};
 * or, when the caller gives one, on its executor, which {@link #close()} leaves running (it is the caller's).
 */
final class HttpTransport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HttpTransport.class);
    /** The largest answer read: a snapshot may be 16 MiB ({@link dev.outrider.core.snapshot.SnapshotVerifier}). */
    static final long MAX_ANSWER_BYTES = 17L * 1024 * 1024;
    /** A dotted IPv4 address, or an IPv6 one (with a colon; in brackets or not). */
    private static final Pattern IP_LITERAL = Pattern.compile("[0-9.]+|\\[?[0-9a-fA-F.%]*:[0-9a-fA-F:.%]*]?");

    private final ControlPlaneClientConfig config;
    private final ClientTls tls;
    private final Clock clock;
    /** Where the HTTP clients run their asynchronous work: {@link #ownExecutor}, or the caller's. */
    private final Executor executor;
    /** The pool this transport made and shuts down on {@link #close()}; null when the caller gave the executor. */
    private final ExecutorService ownExecutor;
    private final Object lock = new Object();
    /** Index (modulo the count) of the target calls go to; moved on by {@link #failed}. */
    private final AtomicInteger current = new AtomicInteger();
    /** Where calls may go, in order: each configured address, or each address of a configured name; never empty. */
    private volatile List<Target> targets;
    /** Guarded by {@link #lock}: the material in use and the HTTP clients built from it (lazily), by TLS host name. */
    private ClientTls.Material material;
    private final Map<String, HttpClient> mutual = new HashMap<>();
    private final Map<String, HttpClient> anonymous = new HashMap<>();
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
        this.targets = targets(config.servers());
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

    /**
     * One place calls may go: {@code base} ({@code https://host:port}) and, when base's host is one of several
     * addresses of the configured host name {@code name}, that name (SNI and the certificate's host name check);
     * null otherwise (the URI's host is what TLS names).
     */
    record Target(URI base, String name) {
        @Override
        public String toString() {
            return name == null ? base.toString() : base + " (" + name + ")";
        }
    }

    /**
     * The targets of {@code servers}: a server whose host is a name with several addresses becomes one target per
     * address; an IP literal, a name with one address or a name that does not resolve now stays as it is (the HTTP
     * client resolves it when it connects, and reports what fails then). Blocking (DNS): never on an event loop.
     */
    static List<Target> targets(List<URI> servers) {
        List<Target> targets = new ArrayList<>();
        for (URI server : servers) {
            String host = server.getHost();
            if (host == null || host.startsWith("[") || IP_LITERAL.matcher(host).matches()) {
                targets.add(new Target(server, null));
                continue;
            }
            InetAddress[] addresses;
            try {
                addresses = InetAddress.getAllByName(host);
            } catch (UnknownHostException e) {
                targets.add(new Target(server, null));
                continue;
            }
            if (addresses.length < 2) {
                targets.add(new Target(server, null));
                continue;
            }
            for (InetAddress address : addresses) {
                String literal = address instanceof Inet6Address ? "[" + address.getHostAddress() + "]"
                        : address.getHostAddress();
                targets.add(new Target(URI.create(server.getScheme() + "://" + literal + ":" + server.getPort()), host));
            }
        }
        return List.copyOf(targets);
    }

    /** The target calls go to now: the first that has not failed since (see {@link #failed}). */
    Target target() {
        List<Target> all = targets;
        return all.get(Math.floorMod(current.get(), all.size()));
    }

    /** The address calls go to now (see {@link #target}). */
    URI server() {
        return target().base();
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
        HttpRequest built = request.build();
        HttpClient client = httpClient(anonymousOnly || token != null, tlsName(built.uri()));
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
        if (current.compareAndSet(attempt, attempt + 1)) {
            boolean named = targets.stream().anyMatch(t -> t.base().equals(server) && t.name() != null)
                    || !IP_LITERAL.matcher(String.valueOf(server.getHost())).matches();
            if (named) {
                targets = targets(config.servers()); // its name may have other addresses now
            }
            if (targets.size() > 1) {
                log.warn("control-plane client: {} unreachable on {} ({}); moving to {}", server, call,
                        cause.toString(), target());
            }
        }
    }

    /** The host name TLS names for a request to {@code uri}: the configured name of its target, if it has one. */
    private String tlsName(URI uri) {
        for (Target t : targets) {
            if (t.name() != null && t.base().getRawAuthority().equals(uri.getRawAuthority())) {
                return t.name();
            }
        }
        return null;
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
    private HttpClient httpClient(boolean anonymousOnly, String tlsName) {
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("control-plane client is closed");
            }
            refresh();
            boolean useCertificate = !anonymousOnly && material.mutual() != null
                    && clock.instant().isBefore(material.clientNotAfter());
            String key = tlsName == null ? "" : tlsName;
            if (useCertificate) {
                return mutual.computeIfAbsent(key, k -> build(material.mutual(), tlsName));
            }
            return anonymous.computeIfAbsent(key, k -> build(material.anonymous(), tlsName));
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

    /**
     * With {@code tlsName}, for calls to an address of that name: the JDK's HTTP client sends no SNI of its own to
     * an IP literal, so this one goes, and the JDK's host name check takes the SNI name over the address.
     */
    private HttpClient build(SSLContext context, String tlsName) {
        SSLParameters parameters = new SSLParameters();
        parameters.setProtocols(new String[] {ClientTls.PROTOCOL});
        parameters.setEndpointIdentificationAlgorithm("HTTPS"); // host name check (RFC 9110 §4.3.4)
        if (tlsName != null) {
            parameters.setServerNames(List.of(new SNIHostName(tlsName)));
        }
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
        mutual.values().forEach(HttpClient::shutdown); // requests in flight (a long poll) complete on the old connection
        anonymous.values().forEach(HttpClient::shutdown);
        mutual.clear();
        anonymous.clear();
    }

    /** Stops at once: calls in flight fail, threads end. */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            mutual.values().forEach(HttpClient::shutdownNow);
            anonymous.values().forEach(HttpClient::shutdownNow);
            mutual.clear();
            anonymous.clear();
        }
        if (ownExecutor != null) {
            ownExecutor.shutdownNow();
        }
    }
}
