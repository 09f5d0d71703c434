package dev.outrider.proxy.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link WebSocketDrain} on a stream of server frames made by Netty's encoder, fed in pieces of every size: the
 * caller gets every byte unchanged, and a drain puts one Close (1001) in at the next frame boundary, never inside a
 * frame (the boundaries are known from the encoder's frames).
 */
class WebSocketDrainTest {
    /** Server frames: unmasked, a short one, a 200 KiB one (8-byte length), a 300-byte one (2-byte length), a short one. */
    private static List<byte[]> frames() {
        return encode(List.of(new TextWebSocketFrame("first"),
                new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[200 * 1024])),
                new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[300])), new TextWebSocketFrame("last")));
    }

    /** The encoded frames, one byte array each (the encoder releases each frame). */
    private static List<byte[]> encode(List<WebSocketFrame> frames) {
        EmbeddedChannel encoder = new EmbeddedChannel(new WebSocket13FrameEncoder(false));
        List<byte[]> out = new ArrayList<>();
        for (WebSocketFrame f : frames) {
            encoder.writeOutbound(f);
            ByteBuf all = Unpooled.buffer();
            ByteBuf b;
            while ((b = encoder.readOutbound()) != null) {
                all.writeBytes(b);
                b.release();
            }
            out.add(ByteBufUtil.getBytes(all));
            all.release();
        }
        encoder.finishAndReleaseAll();
        return out;
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }

    /** Feeds {@code stream} in {@code piece}-byte buffers, draining after {@code drainAfter} bytes; returns what the caller gets. */
    private static byte[] run(byte[] stream, int piece, int drainAfter) {
        EmbeddedChannel caller = new EmbeddedChannel();
        WebSocketDrain drain = new WebSocketDrain(caller);
        EmbeddedChannel upstream = new EmbeddedChannel(drain, new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                caller.write(msg); // as the relay does
            }
        });
        int sent = 0;
        boolean drained = false;
        while (sent < stream.length) {
            if (!drained && sent >= drainAfter) {
                drain.drain();
                drained = true;
            }
            int n = Math.min(piece, stream.length - sent);
            upstream.writeInbound(Unpooled.wrappedBuffer(stream, sent, n));
            sent += n;
        }
        if (!drained) {
            drain.drain();
        }
        caller.flush();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        ByteBuf out;
        while ((out = caller.readOutbound()) != null) {
            got.writeBytes(ByteBufUtil.getBytes(out));
            out.release();
        }
        assertThat(upstream.finishAndReleaseAll()).isFalse();
        caller.finishAndReleaseAll();
        return got.toByteArray();
    }

    private static final byte[] GOING_AWAY = concat(encode(List.of(new CloseWebSocketFrame(1001, "sidecar draining"))));

    /**
     * What the caller must get: the stream with the Close at the first frame boundary at or after the point where
     * the drain came (the first piece boundary at or after {@code drainAfter}, or the end).
     */
    private static byte[] expected(List<byte[]> frames, int piece, int drainAfter) {
        byte[] stream = concat(frames);
        long drainedAt = Math.min((long) Math.ceilDiv(drainAfter, piece) * piece, stream.length);
        int boundary = 0;
        for (byte[] f : frames) {
            if (boundary >= drainedAt) {
                break;
            }
            boundary += f.length;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(stream, 0, boundary);
        out.writeBytes(GOING_AWAY);
        out.write(stream, boundary, stream.length - boundary);
        return out.toByteArray();
    }

    @ParameterizedTest
    @CsvSource({"1, 10", "3, 10", "7, 10", "100, 10", "4096, 10", "1, 204820", "7, 204820", "4096, 204820",
            "1048576, 10", "5, 7", "1, 0"})
    void theCloseGoesInAtTheFirstFrameBoundaryAfterTheDrain(int piece, int drainAfter) {
        List<byte[]> frames = frames();
        byte[] got = run(concat(frames), piece, drainAfter);
        assertThat(got.length).isEqualTo(concat(frames).length + GOING_AWAY.length);
        assertThat(Arrays.equals(got, expected(frames, piece, drainAfter))).as("the Close at the boundary").isTrue();
    }

    @Test
    void aDrainInsideTheLargeFrameWaitsForItsEnd() {
        List<byte[]> frames = frames();
        byte[] want = concat(List.of(frames.get(0), frames.get(1), GOING_AWAY, frames.get(2), frames.get(3)));
        assertThat(Arrays.equals(run(concat(frames), 1000, 10), want)).isTrue();
    }

    @Test
    void aDrainAtRestClosesAtOnce() {
        List<byte[]> frames = frames();
        byte[] want = concat(List.of(concat(frames), GOING_AWAY));
        assertThat(Arrays.equals(run(concat(frames), 1 << 20, Integer.MAX_VALUE), want)).isTrue();
    }

    @Test
    void nothingIsAddedAfterTheServersOwnClose() {
        byte[] serverClose = concat(encode(List.of(new CloseWebSocketFrame(1000, "bye"))));
        assertThat(run(serverClose, 3, Integer.MAX_VALUE)).isEqualTo(serverClose);
    }
}
