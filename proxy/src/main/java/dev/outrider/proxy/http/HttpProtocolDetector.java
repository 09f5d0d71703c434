package dev.outrider.proxy.http;

import dev.outrider.proxy.config.HttpConfig;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.timeout.IdleStateHandler;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: first HTTP handler of a downstream connection (after TLS, when TLS is on).
 *
 * <p>Looks at the first bytes: the HTTP/2 connection preface (RFC 9113 §3.4, h2c with prior knowledge)
 * installs the HTTP/2 codec and a multiplexer whose stream channels carry HttpObjects; anything else
 * installs the strict HTTP/1.1 codec. Either way the per-request handlers come from
 * {@code requestHandlers} (guard, later authn/authz/throttling, forwarding), so they are written once for
 * both protocols. Then this handler removes itself, handing over the bytes it has seen.
 */
public final class HttpProtocolDetector extends ByteToMessageDecoder {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final HttpConfig config;
    private final long drainTimeoutMillis;
    private final Consumer<ChannelPipeline> requestHandlers;

    public HttpProtocolDetector(HttpConfig config, long drainTimeoutMillis, Consumer<ChannelPipeline> requestHandlers) {
        this.config = requireNonNull(config, "config");
        this.drainTimeoutMillis = drainTimeoutMillis;
        this.requestHandlers = requireNonNull(requestHandlers, "requestHandlers");
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int n = Math.min(in.readableBytes(), PREFACE.length);
        boolean prefix = true;
        for (int i = 0; i < n && prefix; i++) {
            prefix = in.getByte(in.readerIndex() + i) == PREFACE[i];
        }
        if (prefix && n < PREFACE.length) {
            return; // could still be HTTP/2: wait for more bytes
        }
        ChannelPipeline p = ctx.pipeline();
        if (prefix) {
            addHttp2(p);
            ctx.channel().config().setAutoRead(true); // control frames must flow; streams apply backpressure
        } else {
            addHttp1(p);
        }
        p.remove(this);
    }

    private void addHttp1(ChannelPipeline p) {
        p.addLast("idle", new IdleStateHandler(0, 0, config.idleTimeout().toNanos(), TimeUnit.NANOSECONDS));
        p.addLast("http1", new Http1ServerCodec(decoderConfig(config)));
        p.addLast("guard", new RequestGuardHandler(config.maxHeaderCount()));
        p.addLast("expect-continue", new HttpServerExpectContinueHandler());
        requestHandlers.accept(p);
    }

    private void addHttp2(ChannelPipeline p) {
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
                ch.pipeline().addLast("http2-to-http", new Http2StreamFrameToHttpObjectCodec(true, true));
                ch.pipeline().addLast("guard", new RequestGuardHandler(config.maxHeaderCount()));
                requestHandlers.accept(ch.pipeline());
            }
        }));
        p.addLast("http2-idle", new Http2IdleCloseHandler());
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
