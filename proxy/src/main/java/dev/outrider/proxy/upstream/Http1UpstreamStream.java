package dev.outrider.proxy.upstream;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;

import static java.util.Objects.requireNonNull;

/**
 * A lease on an HTTP/1.1 upstream connection: the request is written to the connection's channel (its
 * {@code HttpClientCodec} encodes it), the response reaches the listener through the connection's
 * {@link UpstreamHandler}. Auto-read is off while leased, so {@link #read} is the channel's read.
 *
 * <p>Threading: the connection's event loop only.
 */
final class Http1UpstreamStream extends UpstreamStream {
    private final Channel channel;
    private final UpstreamHandler handler;
    private final UpstreamPool pool;

    Http1UpstreamStream(Channel channel, UpstreamHandler handler, Endpoint endpoint, UpstreamPool pool) {
        super(endpoint);
        this.channel = requireNonNull(channel, "channel");
        this.handler = requireNonNull(handler, "handler");
        this.pool = requireNonNull(pool, "pool");
    }

    @Override
    public boolean isHttp2() {
        return false;
    }

    @Override
    public void bind(UpstreamListener listener) {
        handler.bind(requireNonNull(listener, "listener"));
    }

    @Override
    public ChannelFuture writeHead(HttpRequest head) {
        return channel.write(head);
    }

    @Override
    public void write(HttpContent content) {
        channel.write(content, channel.voidPromise()); // a failure reaches UpstreamHandler, which closes
    }

    @Override
    public void flush() {
        channel.flush();
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public void read() {
        channel.read();
    }

    @Override
    Channel detach() {
        handler.unbind();
        channel.pipeline().remove(handler);
        return channel;
    }

    @Override
    void end(boolean reusable) {
        handler.unbind();
        pool.releaseHttp1(endpoint(), channel, reusable);
    }
}
