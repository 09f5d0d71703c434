package dev.outrider.bench.load;

import dev.outrider.core.document.Durations;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import org.HdrHistogram.Histogram;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

/**
 * HTTP load generator for loopback targets: N keep-alive connections (HTTP/1.1 or h2c with prior
 * knowledge), either
 *
 * <ul>
 *   <li><b>open loop</b> ({@code --rate R}): request i is due at {@code start + i/R}, whatever happened to the
 *       earlier ones; its latency runs from that <em>intended</em> start, so time spent queued behind a
 *       slow response counts (no coordinated omission). Requests go to the connections round-robin and
 *       queue there while the connection is busy. At most {@code --max-outstanding} requests are queued or
 *       in flight; a request due beyond that is not sent and counted as dropped.</li>
 *   <li><b>closed loop</b> ({@code --rate 0}, the default): every connection keeps {@code --streams} requests
 *       in flight (1 for HTTP/1.1), the next sent when a response ends; maximum throughput.</li>
 * </ul>
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.outrider.bench.load.LoadGenerator \
 *       --url http://127.0.0.1:18080/ --connections 16 --rate 1000 --duration 10s
 * </pre>
 *
 * Prints a human-readable summary and one {@code RESULT {json}} line (see {@link LoadReport}).
 */
@Command(name = "load-generator", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Open-loop (fixed rate, latency corrected for coordinated omission) or closed-loop HTTP load on loopback.")
public final class LoadGenerator implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--url", required = true, description = "http://127.0.0.1:PORT/path (loopback only)")
    URI url;

    @Option(names = "--protocol", defaultValue = "http1", description = "http1 (keep-alive) or h2c (prior knowledge); default ${DEFAULT-VALUE}")
    String protocol;

    @Option(names = {"-c", "--connections"}, defaultValue = "16", description = "connections (default ${DEFAULT-VALUE})")
    int connections;

    @Option(names = "--streams", defaultValue = "1", description = "h2c: requests in flight per connection (default ${DEFAULT-VALUE}); HTTP/1.1 always 1")
    int streams;

    @Option(names = {"-r", "--rate"}, defaultValue = "0", description = "requests/s for the open loop; 0 = closed loop, as fast as possible (default ${DEFAULT-VALUE})")
    double rate;

    @Option(names = {"-d", "--duration"}, defaultValue = "10s", description = "measured time (default ${DEFAULT-VALUE}; 500ms, 10s, 1m)")
    String duration;

    @Option(names = "--warmup", defaultValue = "2s", description = "load before the measured time, not recorded (default ${DEFAULT-VALUE}; 0 for none)")
    String warmup;

    @Option(names = "--max-outstanding", defaultValue = "10000", description = "open loop: cap on requests queued or in flight (default ${DEFAULT-VALUE})")
    int maxOutstanding;

    @Option(names = {"-H", "--header"}, description = "extra request header 'Name: value' (repeatable)")
    List<String> headerArgs = new ArrayList<>();

    @Option(names = "--threads", defaultValue = "0", description = "event loops; 0 = min(connections, processors)")
    int threads;

    @Option(names = "--drain-timeout", defaultValue = "5s", description = "wait this long for answers after the measured time (default ${DEFAULT-VALUE})")
    String drainTimeout;

    @Option(names = "--label", defaultValue = "", description = "copied into the JSON line (for scripts)")
    String label;

    @Option(names = "--interval", defaultValue = "0", description = "open loop: also print the latency of each interval of the measured time, e.g. 10s (default ${DEFAULT-VALUE}: none)")
    String interval;

    @Option(names = "--prewarm-url", description = "open loop: before the run, send the same load here (the generator's own warm-up, e.g. the backend itself) until --until-ready answers 200")
    URI prewarmUrl;

    @Option(names = "--until-ready", description = "with --prewarm-url: http://127.0.0.1:PORT/path polled every 5 ms (repeatable); the run starts once each has answered 200")
    List<URI> readyUrls = new ArrayList<>();

    @Option(names = "--ready-timeout", defaultValue = "60s", description = "with --prewarm-url: give up when --until-ready has not answered 200 by then (default ${DEFAULT-VALUE})")
    String readyTimeout;

    /** With --interval: the measured latency so far, interval by interval, and the start of the open interval. */
    private Histogram cumulative;
    private long intervalStart;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LoadGenerator()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Duration measured = duration("--duration", duration);
        Duration warm = duration("--warmup", warmup);
        Duration drain = duration("--drain-timeout", drainTimeout);
        Duration every = duration("--interval", interval);
        if (rate <= 0 && (!every.isZero() || prewarmUrl != null)) {
            throw new ParameterException(spec.commandLine(), "--interval and --prewarm-url need the open loop (--rate > 0)");
        }
        if ((prewarmUrl == null) != readyUrls.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "--prewarm-url and --until-ready go together");
        }
        boolean h2 = switch (protocol) {
            case "http1" -> false;
            case "h2c" -> true;
            default -> throw new ParameterException(spec.commandLine(), "--protocol: http1 or h2c, not '" + protocol + "'");
        };
        if (connections < 1 || streams < 1 || maxOutstanding < 1 || rate < 0 || measured.isZero()) {
            throw new ParameterException(spec.commandLine(),
                    "--connections, --streams and --max-outstanding must be >= 1, --rate >= 0, --duration > 0");
        }
        if (!"http".equals(url.getScheme()) || url.getHost() == null) {
            throw new ParameterException(spec.commandLine(), "--url: http://HOST:PORT/path, got " + url);
        }
        InetAddress address = loopbackOnly(url.getHost());
        int port = url.getPort() < 0 ? 80 : url.getPort();
        RequestTemplate request = new RequestTemplate("GET", url.getRawAuthority(), pathOf(url), headers());

        LoadStats stats = new LoadStats();
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        int loops = threads > 0 ? threads : Math.min(connections, Runtime.getRuntime().availableProcessors());
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(loops, io);
        try {
            if (prewarmUrl != null) {
                prewarm(group, epoll, h2, duration("--ready-timeout", readyTimeout));
            }
            List<LoadConnection> conns = connect(group, epoll, address, port, h2, request, stats);
            boolean open = rate > 0;
            long t0 = System.nanoTime();
            long measureStart = t0 + warm.toNanos();
            long end = measureStart + measured.toNanos();
            if (open) {
                if (!every.isZero()) {
                    cumulative = new Histogram(3);
                    intervalStart = measureStart;
                }
                runOpenLoop(conns, stats, t0, measureStart, end, every.toNanos());
            } else {
                conns.forEach(LoadConnection::startClosedLoop);
                sleepUntil(measureStart);
                stats.reset();
                stats.takeLatency();
                sleepUntil(end);
                conns.forEach(LoadConnection::stop);
            }
            long measuredEnd = System.nanoTime();
            // Latency of answers that arrive after the end still counts: they were sent in the measured time.
            long drainEnd = measuredEnd + drain.toNanos();
            while (stats.outstanding.get() > 0 && System.nanoTime() < drainEnd) {
                LockSupport.parkNanos(1_000_000);
            }
            int unfinished = Math.max(0, stats.outstanding.get());
            Histogram latency = stats.takeLatency();
            if (cumulative != null) {
                reportInterval(latency, measureStart, System.nanoTime());
                latency = cumulative;
            }
            LoadReport report = new LoadReport(label, open ? "open" : "closed", protocol, url.toString(), connections,
                    h2 ? streams : 1, rate, (measuredEnd - measureStart) / 1e9, stats.completed.sum(), stats.completedAll.sum(),
                    stats.non2xx.sum(), stats.ioErrors.sum(), stats.dropped.sum(), unfinished, latency,
                    epoll ? "epoll" : "nio", loops);
            System.out.print(report.text());
            System.out.println("RESULT " + report.json());
            for (LoadConnection c : conns) {
                c.ctx.channel().close();
            }
            return report.errors() == 0 ? 0 : 1;
        } finally {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * The dispatcher: request i is due at t0 + i/rate. Sleeps until then (never sends early), hands the
     * request to connection i mod N with its intended start. Falling behind sends the overdue requests at
     * once, still stamped with their intended start. With {@code everyNanos > 0}, each interval of the
     * measured time is reported as it ends ({@link #reportInterval}).
     */
    private void runOpenLoop(List<LoadConnection> conns, LoadStats stats, long t0, long measureStart, long end,
                             long everyNanos) {
        double interval = 1e9 / rate;
        boolean warm = measureStart > t0;
        for (long i = 0; ; i++) {
            long due = t0 + (long) (i * interval);
            if (due >= end) {
                break;
            }
            if (warm && due >= measureStart) {
                sleepUntil(measureStart);
                stats.reset();
                stats.takeLatency();
                warm = false;
            }
            sleepUntil(due);
            if (everyNanos > 0 && !warm && due >= intervalStart + everyNanos) {
                reportInterval(stats.takeLatency(), measureStart, intervalStart + everyNanos);
            }
            if (stats.outstanding.get() >= maxOutstanding) {
                stats.dropped.increment();
                continue;
            }
            stats.outstanding.incrementAndGet();
            conns.get((int) (i % conns.size())).submit(due);
        }
        sleepUntil(end);
    }

    /**
     * One {@code INTERVAL {json}} line: the responses that arrived from {@link #intervalStart} to {@code until}
     * (seconds from the start of the measured time), their latency from their intended start; added to
     * {@link #cumulative}, which becomes the run's latency.
     */
    private void reportInterval(Histogram h, long measureStart, long until) {
        cumulative.add(h);
        System.out.printf(Locale.ROOT, "INTERVAL {\"label\":\"%s\",\"from_s\":%.1f,\"to_s\":%.1f,\"requests\":%d,"
                        + "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}%n", label,
                (intervalStart - measureStart) / 1e9, (until - measureStart) / 1e9, h.getTotalCount(),
                h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(90) / 1e6, h.getValueAtPercentile(99) / 1e6,
                h.getMaxValue() / 1e6);
        intervalStart = until;
    }

    /**
     * The generator's own warm-up before a cold target: the same open-loop load on {@code --prewarm-url} until
     * {@code --until-ready} answers 200 (polled every 5 ms from another thread), so that a run measuring a target
     * from the moment it is ready does not also measure this JVM compiling its own code.
     */
    private void prewarm(EventLoopGroup group, boolean epoll, boolean h2, Duration timeout) throws Exception {
        if (!"http".equals(prewarmUrl.getScheme())
                || readyUrls.stream().anyMatch(u -> !"http".equals(u.getScheme()) || u.getHost() == null)) {
            throw new ParameterException(spec.commandLine(), "--prewarm-url and --until-ready: http://HOST:PORT/path");
        }
        InetAddress address = loopbackOnly(prewarmUrl.getHost());
        readyUrls.forEach(u -> loopbackOnly(u.getHost()));
        LoadStats stats = new LoadStats();
        List<LoadConnection> conns = connect(group, epoll, address, prewarmUrl.getPort(), h2,
                new RequestTemplate("GET", prewarmUrl.getRawAuthority(), pathOf(prewarmUrl), headers()), stats);
        AtomicBoolean ready = new AtomicBoolean();
        long started = System.nanoTime();
        long deadline = started + timeout.toNanos();
        Thread poller = Thread.ofPlatform().daemon().name("ready-poller").start(() -> {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
            List<URI> waiting = new ArrayList<>(readyUrls);
            while (!waiting.isEmpty() && System.nanoTime() < deadline) {
                try {
                    HttpRequest get = HttpRequest.newBuilder(waiting.getFirst()).timeout(Duration.ofSeconds(1)).build();
                    if (client.send(get, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                        waiting.removeFirst();
                        continue;
                    }
                } catch (IOException e) {
                    // not listening yet
                } catch (InterruptedException e) {
                    return;
                }
                LockSupport.parkNanos(5_000_000);
            }
            ready.set(waiting.isEmpty());
        });
        double gap = 1e9 / rate;
        for (long i = 0; !ready.get() && System.nanoTime() < deadline; i++) {
            long due = started + (long) (i * gap);
            sleepUntil(due);
            if (stats.outstanding.get() < maxOutstanding) {
                stats.outstanding.incrementAndGet();
                conns.get((int) (i % conns.size())).submit(due);
            }
        }
        poller.interrupt();
        for (LoadConnection c : conns) {
            c.ctx.channel().close();
        }
        if (!ready.get()) {
            throw new IllegalStateException("--until-ready " + readyUrls + " did not all answer 200 within " + timeout);
        }
        System.out.printf(Locale.ROOT, "PREWARM {\"requests\":%d,\"ready_after_s\":%.3f}%n", stats.completedAll.sum(),
                (System.nanoTime() - started) / 1e9);
    }

    private List<LoadConnection> connect(EventLoopGroup group, boolean epoll, InetAddress address, int port, boolean h2,
                                         RequestTemplate request, LoadStats stats) throws InterruptedException {
        List<LoadConnection> conns = new ArrayList<>(connections);
        Bootstrap b = new Bootstrap().group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000);
        for (int i = 0; i < connections; i++) {
            LoadConnection[] holder = new LoadConnection[1];
            b.handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    if (h2) {
                        Http2FrameCodec codec = Http2FrameCodecBuilder.forClient().build();
                        Http2LoadConnection conn = new Http2LoadConnection(stats, request, streams);
                        holder[0] = conn;
                        ch.pipeline().addLast(codec).addLast(conn.handlers());
                    } else {
                        holder[0] = new Http1LoadConnection(stats, request);
                        ch.pipeline().addLast(new HttpClientCodec(), holder[0]);
                    }
                }
            });
            b.connect(address, port).sync();
            conns.add(holder[0]);
        }
        return conns;
    }

    private List<Map.Entry<String, String>> headers() {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        for (String h : headerArgs) {
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw new ParameterException(spec.commandLine(), "--header: 'Name: value', got '" + h + "'");
            }
            out.add(new SimpleImmutableEntry<>(h.substring(0, colon).trim().toLowerCase(Locale.ROOT),
                    h.substring(colon + 1).trim()));
        }
        return out;
    }

    /** The request target of {@code u}: its raw path ({@code /} when empty) and query. */
    private static String pathOf(URI u) {
        String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
        return u.getRawQuery() == null ? path : path + "?" + u.getRawQuery();
    }

    /** Every address the host resolves to must be a loopback address: this tool never loads another machine. */
    private InetAddress loopbackOnly(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        InetAddress[] all;
        try {
            all = InetAddress.getAllByName(bare);
        } catch (UnknownHostException e) {
            throw new ParameterException(spec.commandLine(), "--url: cannot resolve '" + host + "'");
        }
        for (InetAddress a : all) {
            if (!a.isLoopbackAddress()) {
                throw new ParameterException(spec.commandLine(), "refusing to load '" + host + "': it resolves to "
                        + a.getHostAddress() + ", which is not a loopback address (only 127.0.0.0/8 and ::1 are allowed)");
            }
        }
        return all[0];
    }

    /** {@code 500ms}, {@code 10s}, {@code 1m}, {@code 0} (the project's duration grammar, {@link Durations}). */
    private Duration duration(String option, String text) {
        try {
            return Durations.parse(text);
        } catch (RuntimeException e) {
            throw new ParameterException(spec.commandLine(), option + ": a duration like 500ms, 10s or 1m, got '" + text + "'");
        }
    }

    private static void sleepUntil(long deadline) {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
        }
    }
}
