package dev.outrider.proxy.admin;

import dev.outrider.proxy.http.PathNormalizer;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.BooleanSupplier;

import static java.util.Objects.requireNonNull;

/**
 * Answers the health port: {@code /ready} (200 while the sidecar takes traffic, else 503 with the reason)
 * and {@code /live}
 * (200 while the process serves HTTP at all). Nothing sensitive is ever returned.
 *
 * <p>Pipeline: last, after {@code HttpServerCodec → HttpServerKeepAliveHandler → HttpObjectAggregator}
 * ({@link SmallHttpServer}). Stateless, so one instance is shared by every connection.
 */
@ChannelHandler.Sharable
final class HealthHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(HealthHandler.class);
    private static final String ALLOW = "GET, HEAD";

    /** Read on the event loop for every /ready; must be cheap and non-blocking. */
    private final Readiness readiness;

    HealthHandler(Readiness readiness) {
        this.readiness = requireNonNull(readiness, "readiness");
    }

    HealthHandler(BooleanSupplier ready) {
        this(() -> ready.getAsBoolean() ? null : "not ready");
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (!req.decoderResult().isSuccess()) {
            Responses.badRequest(ctx, req);
            return;
        }
        String path = PathNormalizer.normalize(req.uri());
        switch (path) {
            case "/ready" -> {
                if (!Responses.isGetOrHead(req)) {
                    Responses.methodNotAllowed(ctx, req, ALLOW);
                } else {
                    String why = readiness.notReadyReason();
                    if (why == null) {
                        Responses.text(ctx, req, HttpResponseStatus.OK, "ready\n");
                    } else {
                        Responses.text(ctx, req, HttpResponseStatus.SERVICE_UNAVAILABLE,
                                why.startsWith("not ready") ? why + "\n" : "not ready: " + why + "\n");
                    }
                }
            }
            case "/live" -> {
                if (!Responses.isGetOrHead(req)) {
                    Responses.methodNotAllowed(ctx, req, ALLOW);
                } else {
                    Responses.text(ctx, req, HttpResponseStatus.OK, "live\n");
                }
            }
            default -> Responses.text(ctx, req, HttpResponseStatus.NOT_FOUND, "not found\n");
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("health connection failed: {}", cause.toString());
        ctx.close();
    }
}
