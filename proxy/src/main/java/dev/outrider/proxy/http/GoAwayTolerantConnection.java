package dev.outrider.proxy.http;

import io.netty.handler.codec.http2.DefaultHttp2Connection;

/**
 * A server-side HTTP/2 connection state that, once a GOAWAY was sent, treats every frame on a stream the client
 * opened above its last stream id as a frame for a stream that may have existed, so Netty's decoder ignores it
 * (RFC 9113 §6.8: such streams are not processed and their frames can be ignored).
 *
 * <p>Without it Netty ignores the HEADERS of such a stream without creating it, then finds the DATA frame that
 * follows on a stream that "does not exist" and answers with a connection error (PROTOCOL_ERROR): every stream of
 * the connection, including those being answered, is lost because one request crossed the GOAWAY (the same
 * behaviour line/armeria#3208 describes). Before any GOAWAY nothing changes. Used through
 * {@link DownstreamHttp}'s codec builder; threading is the codec's (the connection's event loop).
 */
final class GoAwayTolerantConnection extends DefaultHttp2Connection {
    GoAwayTolerantConnection() {
        super(true);
    }

    @Override
    public boolean streamMayHaveExisted(int streamId) {
        return super.streamMayHaveExisted(streamId) || refusedAfterGoAway(streamId);
    }

    private boolean refusedAfterGoAway(int streamId) {
        Endpoint<?> client = remote();
        return goAwaySent() && client.isValidStreamId(streamId) && streamId > client.lastStreamKnownByPeer();
    }
}
