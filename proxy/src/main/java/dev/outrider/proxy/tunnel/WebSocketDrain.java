package dev.outrider.proxy.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.nio.charset.StandardCharsets;

import static java.util.Objects.requireNonNull;

/**
 * Pipeline position: on a WebSocket tunnel's upstream connection, right before its {@link ByteRelay}
 * ({@code ByteRelay.join}'s {@code watchB}): it sees the frames the server sends toward the caller and passes them
 * on unchanged, knowing where each one ends. When the sidecar drains it puts a Close frame with status 1001 ("going
 * away", RFC 6455 §7.4.1) into that stream at the next frame boundary, so the client ends the session the way a
 * server going down would: it answers with its own Close, which goes on to the server, and the server's answer ends
 * the connection. Nothing is injected once the server has sent a Close of its own; the drain timeout still bounds it
 * all.
 *
 * <p>Why by hand: only the frame header's length fields are read (RFC 6455 §5.2: two bytes, then 0, 2 or 8 bytes of
 * length, then 4 bytes of mask if masked), to skip each payload without holding it. Netty's frame decoder would hold
 * every frame whole in memory, and a tunnel must stream a 100 MiB frame in pieces.
 *
 * <p>Threading: the tunnel's event loop (both connections share it), so no field needs {@code volatile}.
 */
public final class WebSocketDrain extends ChannelInboundHandlerAdapter implements ByteRelay.Drainable {
    /** Close, FIN set, unmasked (a server's frame), payload: status 1001 and a reason (RFC 6455 §5.5.1). */
    private static final byte[] GOING_AWAY = closeFrame(1001, "sidecar draining");
    private static final int OPCODE_CLOSE = 0x8;

    private final Channel caller;
    /** The header of the frame being read: its bytes so far and how many it has (2 until the length is known). */
    private final byte[] header = new byte[14];
    private int headerBytes;
    private int headerSize = 2;
    /** Payload bytes of the current frame still to come; -1 while its header is incomplete. */
    private long payloadLeft = -1;
    private boolean drainRequested;
    /** A Close went to the caller: the server's own, or the one put in here. */
    private boolean closeSent;

    /** @param caller the tunnel's caller connection: where the server's frames go, and the Close with them */
    public WebSocketDrain(Channel caller) {
        this.caller = requireNonNull(caller, "caller");
    }

    @Override
    public void drain() {
        if (closeSent) {
            return;
        }
        drainRequested = true;
        if (atBoundary()) {
            sendClose(true);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in) || closeSent && !drainRequested) {
            ctx.fireChannelRead(msg);
            return;
        }
        int start = in.readerIndex();
        int end = in.writerIndex();
        int i = start;
        while (i < end) {
            i = advance(in, i, end);
            if (drainRequested && !closeSent && atBoundary()) {
                if (i < end) {
                    ctx.fireChannelRead(in.retainedSlice(start, i - start)); // the frames before the boundary
                    start = i;
                } else {
                    break; // the boundary is at this buffer's end: it goes on whole, then the Close
                }
                sendClose(false);
            }
        }
        if (start == in.readerIndex()) {
            ctx.fireChannelRead(in);
        } else {
            ctx.fireChannelRead(in.retainedSlice(start, end - start));
            in.release();
        }
        if (drainRequested && !closeSent && atBoundary()) {
            sendClose(false);
        }
    }

    /** Reads the frame structure from {@code i} on; returns where the current header or payload ends (or {@code end}). */
    private int advance(ByteBuf in, int i, int end) {
        if (payloadLeft < 0) {
            while (i < end && headerBytes < headerSize) {
                header[headerBytes++] = in.getByte(i++);
                if (headerBytes == 2) {
                    int len7 = header[1] & 0x7F;
                    headerSize = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((header[1] & 0x80) != 0 ? 4 : 0);
                }
            }
            if (headerBytes < headerSize) {
                return i;
            }
            payloadLeft = payloadLength();
            if ((header[0] & 0x0F) == OPCODE_CLOSE) {
                closeSent = true; // the server says goodbye itself; the client answers it
                drainRequested = false;
            }
        }
        long n = Math.min(payloadLeft, end - i);
        payloadLeft -= n;
        i += (int) n;
        if (payloadLeft == 0) {
            payloadLeft = -1;
            headerBytes = 0;
            headerSize = 2;
        }
        return i;
    }

    private long payloadLength() {
        int len7 = header[1] & 0x7F;
        if (len7 < 126) {
            return len7;
        }
        int bytes = len7 == 126 ? 2 : 8;
        long len = 0;
        for (int k = 0; k < bytes; k++) {
            len = len << 8 | header[2 + k] & 0xFF;
        }
        return len < 0 ? Long.MAX_VALUE : len; // a 64-bit length with its top bit set is invalid; the peer fails it
    }

    private boolean atBoundary() {
        return payloadLeft < 0 && headerBytes == 0;
    }

    private void sendClose(boolean flush) {
        closeSent = true;
        drainRequested = false;
        if (caller.isActive()) {
            ByteBuf close = Unpooled.wrappedBuffer(GOING_AWAY);
            if (flush) {
                caller.writeAndFlush(close, caller.voidPromise());
            } else {
                caller.write(close, caller.voidPromise()); // flushed with the relay's read
            }
        }
    }

    private static byte[] closeFrame(int status, String reason) {
        byte[] text = reason.getBytes(StandardCharsets.UTF_8);
        byte[] frame = new byte[4 + text.length];
        frame[0] = (byte) (0x80 | OPCODE_CLOSE);
        frame[1] = (byte) (2 + text.length); // < 126: the short length form
        frame[2] = (byte) (status >> 8);
        frame[3] = (byte) status;
        System.arraycopy(text, 0, frame, 4, text.length);
        return frame;
    }
}
