package dev.outrider.proxy.admin;

import com.fasterxml.jackson.databind.ObjectWriter;
import dev.outrider.proxy.http.PathNormalizer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * Answers the admin port: {@code GET /metrics} (Prometheus text), {@code GET /config} (the redacted config
 * as JSON), {@code POST /drain} (only with a loopback Host, no foreign Origin and
 * {@code X-Outrider-Drain: true}: {@link DrainRequestCheck}).
 *
 * <p>Pipeline: last, after {@code HttpServerCodec → HttpServerKeepAliveHandler → HttpObjectAggregator}
 * ({@link SmallHttpServer}). One instance per connection.
 *
 * <p>Threading: a scrape walks every meter, so it runs on the admin server's scrape executor, never on the
 * event loop; its response is written back on the event loop. {@link #scraping} and {@link #waiting} are
 * touched only on the channel's event loop (the scrape's completion hops back to it), so they need no
 * {@code volatile}. Requests pipelined behind a scrape wait in {@link #waiting} so responses keep their order.
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(AdminHandler.class);
    /** Prometheus text exposition format 0.0.4. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    private static final String JSON = "application/json";

    private final PrometheusMeterRegistry registry;
    private final Executor scrapeExecutor;
    private final Supplier<?> configView;
    private final ObjectWriter configWriter;
    private final Runnable drain;

    private boolean scraping;
    private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>(2);

    AdminHandler(PrometheusMeterRegistry registry, Executor scrapeExecutor, Supplier<?> configView,
                 ObjectWriter configWriter, Runnable drain) {
        this.registry = registry;
        this.scrapeExecutor = scrapeExecutor;
        this.configView = configView;
        this.configWriter = configWriter;
        this.drain = drain;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (scraping) {
            waiting.add(req.retain());
            return;
        }
        handle(ctx, req);
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (!req.decoderResult().isSuccess()) {
            Responses.badRequest(ctx, req);
            return;
        }
        switch (PathNormalizer.normalize(req.uri())) {
            case "/metrics" -> {
                if (Responses.isGetOrHead(req)) {
                    scrape(ctx, req.protocolVersion(), req.method().equals(HttpMethod.HEAD));
                } else {
                    Responses.methodNotAllowed(ctx, req, "GET, HEAD");
                }
            }
            case "/config" -> {
                if (Responses.isGetOrHead(req)) {
                    config(ctx, req);
                } else {
                    Responses.methodNotAllowed(ctx, req, "GET, HEAD");
                }
            }
            case "/drain" -> {
                if (req.method().equals(HttpMethod.POST)) {
                    drain(ctx, req);
                } else {
                    Responses.methodNotAllowed(ctx, req, "POST");
                }
            }
            default -> Responses.text(ctx, req, HttpResponseStatus.NOT_FOUND, "not found\n");
        }
    }

    /** Runs the drain for a request {@link DrainRequestCheck} accepts; 403 with the reason otherwise. */
    private void drain(ChannelHandlerContext ctx, FullHttpRequest req) {
        Optional<String> refusal = DrainRequestCheck.refusal(req.headers());
        if (refusal.isPresent()) {
            log.debug("admin: refused POST /drain from {}: {}", ctx.channel().remoteAddress(), refusal.get());
            Responses.text(ctx, req, HttpResponseStatus.FORBIDDEN, refusal.get() + "\n");
            return;
        }
        drain.run();
        Responses.text(ctx, req, HttpResponseStatus.ACCEPTED, "draining\n");
    }

    private void scrape(ChannelHandlerContext ctx, HttpVersion version, boolean head) {
        scraping = true;
        try {
            scrapeExecutor.execute(() -> {
                HttpResponseStatus status = HttpResponseStatus.OK;
                byte[] body;
                try {
                    body = registry.scrape().getBytes(StandardCharsets.UTF_8);
                } catch (RuntimeException e) {
                    log.warn("metrics scrape failed", e);
                    status = HttpResponseStatus.INTERNAL_SERVER_ERROR;
                    body = "scrape failed\n".getBytes(StandardCharsets.UTF_8);
                }
                HttpResponseStatus s = status;
                byte[] b = body;
                try {
                    ctx.executor().execute(() -> scraped(ctx, version, head, s, b));
                } catch (RejectedExecutionException e) {
                    // The event loops are shutting down; the connection goes with them.
                }
            });
        } catch (RejectedExecutionException e) {
            // Too many scrapes queued (or the server is closing): say so rather than queue without bound.
            scraped(ctx, version, head, HttpResponseStatus.SERVICE_UNAVAILABLE,
                    "busy\n".getBytes(StandardCharsets.UTF_8));
        }
    }

    /** On the event loop: writes the scrape's response, then serves what was pipelined behind it. */
    private void scraped(ChannelHandlerContext ctx, HttpVersion version, boolean head, HttpResponseStatus status,
                         byte[] body) {
        scraping = false;
        String type = status.equals(HttpResponseStatus.OK) ? PROMETHEUS_TEXT : Responses.TEXT;
        Responses.send(ctx, version, head, status, type, body);
        FullHttpRequest next;
        while (!scraping && (next = waiting.poll()) != null) {
            try {
                handle(ctx, next);
            } finally {
                next.release();
            }
        }
    }

    private void config(ChannelHandlerContext ctx, FullHttpRequest req) {
        byte[] body;
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
            configWriter.writeValue(out, configView.get());
            out.write('\n');
            body = out.toByteArray();
        } catch (IOException | RuntimeException e) {
            log.warn("config view failed", e);
            Responses.text(ctx, req, HttpResponseStatus.INTERNAL_SERVER_ERROR, "config unavailable\n");
            return;
        }
        Responses.send(ctx, req.protocolVersion(), req.method().equals(HttpMethod.HEAD), HttpResponseStatus.OK,
                JSON, body);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        releaseWaiting();
        super.channelInactive(ctx);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        releaseWaiting();
    }

    private void releaseWaiting() {
        FullHttpRequest req;
        while ((req = waiting.poll()) != null) {
            req.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("admin connection failed: {}", cause.toString());
        ctx.close();
    }
}
