package dev.outrider.proxy.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: last handler of each of two connections joined into one byte stream: a WebSocket (or another
 * HTTP/1.1 upgrade) after its {@code 101 Switching Protocols}, or a TCP port's connection and its tunnel. What one
 * side reads is written to the other, unchanged.
 *
 * <pre>
 *  side A (auto-read off)             ByteRelay (one per side)             side B (auto-read off)
 *  read ──ByteBuf──▶ write to B ─────────────────────────────────────────▶ flush at read complete
 *    ▲ read() again only while B.isWritable() ◀── B's writability changed ──┘
 *  (and the same from B to A)
 * </pre>
 * Neither side reads faster than the other can write, so a tunnel holds at most the socket buffers and one
 * write-buffer high-water mark per direction, whatever the size of a message (a 100 MiB WebSocket frame passes in
 * pieces).
 *
 * <p>Ends: a half-close (FIN) from one side is passed on as a half-close to the other (the server-speaks-last
 * protocols need it); when both directions are shut, or either connection closes, fails or stays idle for its
 * idle timeout (an {@link IdleStateEvent} from the connection's idle handler), both close, after what was already
 * written is flushed. {@link #join} is called on the event loop both channels share (a tunnel's upstream lives on
 * its downstream's loop), so no field needs {@code volatile}.
 */
public final class ByteRelay extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ByteRelay.class);

    /** What a tunnel reports when it ends: the bytes each way, for metrics and the access log. */
    public interface Ended {
        /**
         * Called once, on the event loop, when both connections are closing.
         *
         * @param fromA bytes read from side A (and written to B)
         * @param fromB bytes read from side B (and written to A)
         */
        void ended(long fromA, long fromB);
    }

    /**
     * The user event {@code DownstreamConnections} fires on a tunnel's caller connection when the sidecar drains: a
     * TCP tunnel runs on until it ends or the drain timeout closes it; a protocol that can say goodbye (WebSocket)
     * does so through the {@link Drainable} handler its tunnel was joined with.
     */
    public static final Object DRAIN = new Object() {
        @Override
        public String toString() {
            return "tunnel drain";
        }
    };

    /** A handler joined into a tunnel that acts when the sidecar drains ({@link #DRAIN}). */
    public interface Drainable {
        /** The sidecar drains; called on the tunnel's event loop. */
        void drain();
    }

    private final Channel peer;
    private final Pair pair;
    private final boolean sideA;
    private ChannelHandlerContext ctx;
    private long bytesRead;
    private boolean inputShut;

    private ByteRelay(Channel peer, Pair pair, boolean sideA) {
        this.peer = peer;
        this.pair = pair;
        this.sideA = sideA;
    }

    /**
     * Joins {@code a} and {@code b}: a relay goes last in each pipeline, then the handlers named in {@code stripA}
     * and {@code stripB} leave their pipelines in that order (the HTTP handlers, the codec last: bytes a removed
     * decoder still held go on to the relay, in order), then both start reading.
     *
     * @param ended called once when the tunnel ends
     */
    public static void join(Channel a, List<String> stripA, Channel b, List<String> stripB, Ended ended) {
        join(a, stripA, b, stripB, null, ended);
    }

    /**
     * As above, with {@code watchB} placed right before B's relay, so it sees every byte B sends (those a removed
     * decoder still held included), and is told when the sidecar drains if it is {@link Drainable}.
     */
    public static void join(Channel a, List<String> stripA, Channel b, List<String> stripB, ChannelHandler watchB,
                            Ended ended) {
        requireNonNull(ended, "ended");
        if (a.eventLoop() != b.eventLoop() || !a.eventLoop().inEventLoop()) {
            throw new IllegalStateException("a tunnel's connections share one event loop, and are joined on it");
        }
        Pair pair = new Pair(a, b, ended, watchB instanceof Drainable d ? d : null);
        a.config().setAutoRead(false);
        b.config().setAutoRead(false);
        a.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        b.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        pair.relayA = new ByteRelay(b, pair, true);
        pair.relayB = new ByteRelay(a, pair, false);
        a.pipeline().addLast("relay", pair.relayA);
        if (watchB != null) {
            b.pipeline().addLast("tunnel-watch", watchB);
        }
        b.pipeline().addLast("relay", pair.relayB);
        strip(a.pipeline(), stripA);
        strip(b.pipeline(), stripB);
        a.read();
        b.read();
    }

    /** Joins two connections that carry nothing but bytes already. */
    public static void join(Channel a, Channel b, Ended ended) {
        join(a, List.of(), b, List.of(), ended);
    }

    private static void strip(ChannelPipeline p, List<String> names) {
        for (String name : names) {
            if (p.get(name) != null) {
                p.remove(name);
            }
        }
    }

    /** Whether {@code channel} carries a tunnel (drain leaves it to finish, up to the drain timeout). */
    public static boolean relays(Channel channel) {
        return channel.pipeline().get(ByteRelay.class) != null;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (!ctx.channel().isActive()) {
            pair.end(); // closed before it was joined
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf bytes)) {
            ReferenceCountUtil.release(msg); // nothing but bytes flows once the codecs are gone
            return;
        }
        bytesRead += bytes.readableBytes();
        if (!peer.isActive()) {
            bytes.release();
            return;
        }
        peer.write(bytes, peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        peer.flush();
        if (peer.isWritable() && !inputShut) {
            ctx.read();
        } // else the peer's writability change reads on
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            ByteRelay other = sideA ? pair.relayB : pair.relayA;
            other.resume();
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void resume() {
        if (!inputShut && ctx.channel().isActive()) {
            ctx.read();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            inputShut = true;
            if (peer instanceof DuplexChannel duplex && peer.isActive()) {
                peer.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> duplex.shutdownOutput());
            }
            if (pair.relayA.inputShut && pair.relayB.inputShut) {
                pair.end();
            }
            return;
        }
        if (evt == DRAIN) {
            if (pair.drainable != null) {
                pair.drainable.drain();
            }
            return;
        }
        if (evt instanceof IdleStateEvent) {
            log.debug("tunnel {} idle; closing", ctx.channel());
            pair.end();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        pair.end();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("tunnel {} failed", ctx.channel(), cause);
        pair.end();
    }

    /** The two sides' shared end: closes both once, after what each was written is flushed. */
    private static final class Pair {
        private final Channel a;
        private final Channel b;
        private final Ended ended;
        private final Drainable drainable;
        private ByteRelay relayA;
        private ByteRelay relayB;
        private boolean over;

        Pair(Channel a, Channel b, Ended ended, Drainable drainable) {
            this.a = a;
            this.b = b;
            this.ended = ended;
            this.drainable = drainable;
        }

        void end() {
            if (over) {
                return;
            }
            over = true;
            closeAfterFlush(a);
            closeAfterFlush(b);
            ended.ended(relayA.bytesRead, relayB.bytesRead);
        }

        private static void closeAfterFlush(Channel ch) {
            if (ch.isActive()) {
                ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            } else {
                ch.close();
            }
        }
    }
}
