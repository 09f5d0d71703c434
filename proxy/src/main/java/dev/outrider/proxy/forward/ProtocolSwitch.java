package dev.outrider.proxy.forward;

import dev.outrider.proxy.http.DownstreamHttp;
import dev.outrider.proxy.http.HeaderHygiene;
import dev.outrider.proxy.tunnel.ByteRelay;
import dev.outrider.proxy.tunnel.WebSocketDrain;
import dev.outrider.proxy.upstream.UpstreamStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

import java.util.List;

/**
 * The switch of an upgraded exchange (RFC 9110 §7.8, §15.2.2) from HTTP to the protocol its upstream chose: the
 * {@code 101 Switching Protocols} goes to the caller, then both connections lose their HTTP handlers and carry
 * bytes through a {@link ByteRelay}.
 *
 * <pre>
 *  caller ──[tracker, tls, idle, http1 … forward]── sidecar ──[idle, codec, upstream]── upstream
 *                                │ 101 written (encoded by http1)       │ 101 read (codec now passes raw bytes)
 *                                ▼                                      ▼
 *  caller ──[tracker, tls, idle, relay]──────────── sidecar ──[idle, relay]──────────── upstream
 * </pre>
 * The connection-level handlers stay: the connection tracker (drain, limits), TLS and the idle timeout, which now
 * closes an idle tunnel. Between sidecars an upgrade is an HTTP/1.1 upgrade over the sidecars' mTLS (one
 * connection per tunnel: TCP's own flow control end to end, nothing else waits behind a busy tunnel, and the
 * identity and policy checks of the upgrade request hold for the connection's whole life).
 *
 * <p>Threading: the exchange's event loop, which is also the upstream connection's.
 */
final class ProtocolSwitch {
    private static final String WEBSOCKET = "websocket";
    private ProtocolSwitch() {
    }

    /**
     * The {@code 101} for the caller: the upstream's end-to-end fields ({@code Sec-WebSocket-Accept},
     * {@code Sec-WebSocket-Protocol}, ...) without its hop-by-hop ones, and {@code Upgrade} with
     * {@code Connection: upgrade} of this hop. Releases {@code upstream}.
     */
    static FullHttpResponse switchingProtocols(HttpResponse upstream, String protocol) {
        HttpHeaders headers = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        headers.set(upstream.headers());
        ReferenceCountUtil.release(upstream);
        HeaderHygiene.stripHopByHop(headers);
        headers.remove(HttpHeaderNames.CONTENT_LENGTH);
        headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
        headers.set(HttpHeaderNames.UPGRADE, protocol);
        headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS,
                Unpooled.EMPTY_BUFFER, headers, DefaultHttpHeadersFactory.trailersFactory().newHeaders());
    }

    /**
     * Writes {@code switched} to the caller (encoded at once by its HTTP/1.1 codec), then joins the caller's
     * connection and {@code upstream} (taken over from its lease, its codec still in place). A WebSocket tunnel
     * says goodbye when the sidecar drains ({@link WebSocketDrain}); others run on until they end or the drain
     * timeout closes them.
     *
     * @param protocol the protocol's name ({@link dev.outrider.proxy.http.Upgrades#name})
     */
    static void join(ChannelHandlerContext downstream, FullHttpResponse switched, Channel upstream, String protocol,
                     ByteRelay.Ended ended) {
        downstream.writeAndFlush(switched);
        Channel caller = downstream.channel();
        ByteRelay.join(caller, DownstreamHttp.http1Handlers(caller.pipeline()), upstream, List.of(UpstreamStream.CODEC),
                WEBSOCKET.equals(protocol) ? new WebSocketDrain(caller) : null, ended);
    }
}
