package dev.outrider.proxy.http;

import dev.outrider.proxy.config.HttpConfig;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The HTTP part of a downstream pipeline, once the protocol is known (from the connection preface on
 * plaintext, from ALPN with TLS): the strict HTTP/1.1 codec, or HTTP/2 with a multiplexer whose stream
 * channels carry HttpObjects. Either way the request guard and header hygiene come first, then the
 * per-request handlers from {@code requestHandlers} (client-certificate header, authn/authz/throttling,
 * {@link #addExpectContinue}, forwarding), so they are written once
 * for both protocols: on HTTP/1.1 {@link Http1PipeliningHandler} lets one request at a time reach them, as a
 * stream channel carries one request. Immutable; shared by the connections of one listener.
 *
 * <p>{@code http.requestHeaderTimeout} spans both halves: {@link #addFirstRequestDeadline} starts it when a
 * connection is accepted; {@code addHttp1}/{@code addHttp2} take that deadline over into the protocol's header
 * timer ({@link Http1HeaderTimeoutHandler}, {@link Http2HeaderTimeoutHandler}).
 */
public final class DownstreamHttp {
    /** The HTTP/1.1 codec's name in a downstream pipeline: the handlers after it serve requests, those before it the connection. */
    public static final String HTTP1_CODEC = "http1";
    private final HttpConfig config;
    private final long drainTimeoutMillis;
    private final Http2ConnectionErrorHandler http2Errors;
    private final Consumer<ChannelPipeline> requestHandlers;

    /** @param http2Errors counts and logs HTTP/2 connection errors; one per listener direction */
    public DownstreamHttp(HttpConfig config, long drainTimeoutMillis, Http2ConnectionErrorHandler http2Errors,
                          Consumer<ChannelPipeline> requestHandlers) {
        this.config = requireNonNull(config, "config");
        this.drainTimeoutMillis = drainTimeoutMillis;
        this.http2Errors = requireNonNull(http2Errors, "http2Errors");
        this.requestHandlers = requireNonNull(requestHandlers, "requestHandlers");
    }

    /**
     * Starts the first request's header deadline; call in {@code initChannel}, right after the tracker, so the
     * TLS handshake and protocol detection count against it.
     */
    public void addFirstRequestDeadline(ChannelPipeline p) {
        p.addLast("header-deadline", new FirstRequestDeadlineHandler(config.requestHeaderTimeout().toNanos()));
    }

    public void addHttp1(ChannelPipeline p) {
        long firstDeadline = takeFirstRequestDeadline(p);
        allowHalfClosure(p);
        p.addLast("idle", new IdleTimeoutHandler(config.idleTimeout().toNanos()));
        Http1ServerCodec codec = new Http1ServerCodec(decoderConfig(config));
        p.addLast(HTTP1_CODEC, codec);
        p.addLast("header-timeout",
                new Http1HeaderTimeoutHandler(codec, config.requestHeaderTimeout().toNanos(), firstDeadline));
        p.addLast("pipelining", new Http1PipeliningHandler()); // one request at a time past this point
        p.addLast("guard", new RequestGuardHandler(config.maxHeaderCount(), config.upgrades()));
        p.addLast("hygiene", RequestHygieneHandler.INSTANCE);
        requestHandlers.accept(p);
    }

    public void addHttp2(ChannelPipeline p) {
        long firstDeadline = takeFirstRequestDeadline(p);
        allowHalfClosure(p);
        FlushConsolidation.add(p);
        p.addLast("idle", new IdleTimeoutHandler(config.idleTimeout().toNanos()));
        Http2FrameCodec codec = new ServerCodecBuilder()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(config.maxConcurrentStreams())
                        .maxHeaderListSize(config.maxHeaderSize()))
                .gracefulShutdownTimeoutMillis(drainTimeoutMillis)
                .validateHeaders(true)
                .build();
        p.addLast("http2", codec);
        p.addLast("http2-header-timeout",
                new Http2HeaderTimeoutHandler(codec.decoder(), config.requestHeaderTimeout().toNanos(), firstDeadline));
        p.addLast("mux", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.config().setAutoRead(false);
                ch.pipeline().addLast("http2-head", Http2RequestHeadHandler.INSTANCE); // before the codec leaks
                ch.pipeline().addLast("http2-to-http", new Http2StreamFrameToHttpObjectCodec(true, true));
                ch.pipeline().addLast("guard", new RequestGuardHandler(config.maxHeaderCount()));
                ch.pipeline().addLast("hygiene", RequestHygieneHandler.INSTANCE);
                requestHandlers.accept(ch.pipeline());
            }
        }));
        p.addLast("http2-drain", new Http2DrainHandler());
        p.addLast("http2-idle", new Http2IdleCloseHandler());
        p.addLast("http2-errors", http2Errors);
        p.channel().config().setAutoRead(true); // control frames must flow; streams apply backpressure
    }

    /**
     * {@link Http2FrameCodecBuilder#forServer()} with a {@link GoAwayTolerantConnection}: the builder takes a
     * connection only through its protected setter.
     */
    private static final class ServerCodecBuilder extends Http2FrameCodecBuilder {
        ServerCodecBuilder() {
            connection(new GoAwayTolerantConnection());
        }
    }

    /**
     * Answers {@code Expect: 100-continue} (RFC 9110 §10.1.1) with {@code 100 Continue}, on both protocols.
     * Goes right before forwarding, after every check: a request refused by authentication, authorization or
     * throttling gets its final status instead and is never invited to send its body.
     */
    public static void addExpectContinue(ChannelPipeline p) {
        p.addLast("expect-continue", ExpectContinue.INSTANCE);
    }

    /**
     * The names of an HTTP/1.1 downstream pipeline's handlers from its codec ({@link #HTTP1_CODEC}) on, last first:
     * what leaves the pipeline when the connection stops being HTTP (an upgrade's {@code 101}, a TCP tunnel's
     * {@code 200}), in the order that sends bytes the codec still holds on to what comes after it. The handlers before
     * the codec stay: they serve the connection (tracker, TLS, idle timeout).
     */
    public static List<String> http1Handlers(ChannelPipeline p) {
        List<String> names = p.names();
        int codec = names.indexOf(HTTP1_CODEC);
        if (codec < 0) {
            throw new IllegalStateException("not an HTTP/1.1 downstream connection: " + names);
        }
        List<String> handlers = new ArrayList<>();
        for (int i = names.size() - 1; i >= codec; i--) {
            String name = names.get(i);
            if (p.get(name) != null) { // the tail's name is listed but names no handler
                handlers.add(name);
            }
        }
        return handlers;
    }

    /**
     * Netty's handler, which is stateless (one instance serves every connection); a request that is already
     * complete (HTTP/2 HEADERS with END_STREAM) has nothing to invite and only loses its {@code Expect}.
     */
    @ChannelHandler.Sharable
    private static final class ExpectContinue extends HttpServerExpectContinueHandler {
        static final ExpectContinue INSTANCE = new ExpectContinue();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
            if (msg instanceof FullHttpRequest complete) {
                complete.headers().remove(HttpHeaderNames.EXPECT);
                ctx.fireChannelRead(msg);
                return;
            }
            super.channelRead(ctx, msg);
        }
    }

    /**
     * The first request's header deadline set at accept, handed over from {@link FirstRequestDeadlineHandler}
     * (removed here); a pipeline built without one (tests) counts from now.
     */
    private long takeFirstRequestDeadline(ChannelPipeline p) {
        FirstRequestDeadlineHandler deadline = p.get(FirstRequestDeadlineHandler.class);
        if (deadline == null) {
            return System.nanoTime() + config.requestHeaderTimeout().toNanos();
        }
        p.remove(deadline);
        return deadline.deadlineNanos();
    }

    /**
     * From here on a client's half-close (TCP FIN after its requests) is an event, not a close, so what it
     * sent is still answered: by the pipelining and forwarding handlers on HTTP/1.1, by
     * {@link Http2IdleCloseHandler} on HTTP/2. Before the HTTP handlers are in place (TLS handshake, protocol
     * detection) a FIN still closes the connection, as nothing could be answered.
     */
    private static void allowHalfClosure(ChannelPipeline p) {
        p.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
    }

    /**
     * The strict HTTP/1.1 decoder: RFC 9112 Transfer-Encoding rules (Content-Length with Transfer-Encoding
     * is an error, not a tie-break), strict CRLF line endings, no duplicate Content-Length, header
     * validation on. A request's headers go into a {@link CompactHttpHeaders} (validated as Netty's default
     * map); its factory is told each block's size by the decoder, so a config serves one connection.
     */
    public static HttpDecoderConfig decoderConfig(HttpConfig config) {
        return new HttpDecoderConfig()
                .setMaxInitialLineLength(config.maxInitialLineLength())
                .setMaxHeaderSize(config.maxHeaderSize())
                .setMaxChunkSize(65536)
                .setValidateHeaders(true)
                .setAllowDuplicateContentLengths(false)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                // after setValidateHeaders, which sets the factories; validates as the default it replaces
                .setHeadersFactory(new CompactHttpHeadersFactory());
    }
}
