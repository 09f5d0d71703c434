package dev.outrider.proxy.http;

import dev.outrider.proxy.config.HttpConfig;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.timeout.IdleStateHandler;

import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The HTTP part of a downstream pipeline, once the protocol is known (from the connection preface on
 * plaintext, from ALPN with TLS): the strict HTTP/1.1 codec, or HTTP/2 with a multiplexer whose stream
 * channels carry HttpObjects. Either way the per-request handlers come from {@code requestHandlers}
 * (guard, client-certificate header, later authn/authz/throttling, forwarding), so they are written once
 * for both protocols: on HTTP/1.1 {@link Http1PipeliningHandler} lets one request at a time reach them, as a
 * stream channel carries one request. Immutable; shared by the connections of one listener.
 */
public final class DownstreamHttp {
    private final HttpConfig config;
    private final long drainTimeoutMillis;
    private final Consumer<ChannelPipeline> requestHandlers;

    public DownstreamHttp(HttpConfig config, long drainTimeoutMillis, Consumer<ChannelPipeline> requestHandlers) {
        this.config = requireNonNull(config, "config");
        this.drainTimeoutMillis = drainTimeoutMillis;
        this.requestHandlers = requireNonNull(requestHandlers, "requestHandlers");
    }

    public void addHttp1(ChannelPipeline p) {
        p.addLast("idle", new IdleStateHandler(0, 0, config.idleTimeout().toNanos(), TimeUnit.NANOSECONDS));
        p.addLast("http1", new Http1ServerCodec(decoderConfig(config)));
        p.addLast("pipelining", new Http1PipeliningHandler()); // one request at a time past this point
        p.addLast("guard", new RequestGuardHandler(config.maxHeaderCount()));
        p.addLast("expect-continue", new HttpServerExpectContinueHandler());
        requestHandlers.accept(p);
    }

    public void addHttp2(ChannelPipeline p) {
        p.addLast("idle", new IdleStateHandler(0, 0, config.idleTimeout().toNanos(), TimeUnit.NANOSECONDS));
        p.addLast("http2", Http2FrameCodecBuilder.forServer()
                .initialSettings(Http2Settings.defaultSettings()
                        .maxConcurrentStreams(config.maxConcurrentStreams())
                        .maxHeaderListSize(config.maxHeaderSize()))
                .gracefulShutdownTimeoutMillis(drainTimeoutMillis)
                .validateHeaders(true)
                .build());
        p.addLast("mux", new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
            @Override
            protected void initChannel(Http2StreamChannel ch) {
                ch.config().setAutoRead(false);
                ch.pipeline().addLast("http2-head", Http2RequestHeadHandler.INSTANCE); // before the codec leaks
                ch.pipeline().addLast("http2-to-http", new Http2StreamFrameToHttpObjectCodec(true, true));
                ch.pipeline().addLast("guard", new RequestGuardHandler(config.maxHeaderCount()));
                requestHandlers.accept(ch.pipeline());
            }
        }));
        p.addLast("http2-idle", new Http2IdleCloseHandler());
        p.channel().config().setAutoRead(true); // control frames must flow; streams apply backpressure
    }

    /**
     * The strict HTTP/1.1 decoder: RFC 9112 Transfer-Encoding rules (Content-Length with Transfer-Encoding
     * is an error, not a tie-break), strict CRLF line endings, no duplicate Content-Length, header
     * validation on.
     */
    public static HttpDecoderConfig decoderConfig(HttpConfig config) {
        return new HttpDecoderConfig()
                .setMaxInitialLineLength(config.maxInitialLineLength())
                .setMaxHeaderSize(config.maxHeaderSize())
                .setMaxChunkSize(65536)
                .setValidateHeaders(true)
                .setAllowDuplicateContentLengths(false)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true);
    }
}
