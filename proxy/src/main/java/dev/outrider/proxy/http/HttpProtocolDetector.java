package dev.outrider.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: first HTTP handler of a downstream connection (after TLS, when TLS is on).
 *
 * <p>Looks at the first bytes: the HTTP/2 connection preface (RFC 9113 §3.4, h2c with prior knowledge)
 * installs HTTP/2, anything else the strict HTTP/1.1 codec ({@link DownstreamHttp}). Then this handler
 * removes itself, handing over the bytes it has seen. Used on plaintext listeners; with TLS, ALPN decides.
 */
public final class HttpProtocolDetector extends ByteToMessageDecoder {
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final DownstreamHttp http;

    public HttpProtocolDetector(DownstreamHttp http) {
        this.http = requireNonNull(http, "http");
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
            http.addHttp2(p);
        } else {
            http.addHttp1(p);
        }
        p.remove(this);
    }
}
