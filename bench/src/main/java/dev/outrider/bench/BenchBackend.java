package dev.outrider.bench;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2FrameStream;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.util.ReferenceCountUtil;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * The load target of the pair benchmark: answers every request with a fixed body as fast as Netty can, so
 * that what the benchmark measures is the client and the sidecars, not the application.
 *
 * <pre>
 *   java -cp bench/target/benchmarks.jar dev.outrider.bench.BenchBackend --port 18080
 * </pre>
 *
 * <p>HTTP/1.1 with keep-alive (HTTP/1.0 and {@code Connection: close} honoured by
 * {@link HttpServerKeepAliveHandler}), and h2c with prior knowledge (RFC 9113 §3.3), told apart by the first
 * bytes of a connection. Request bodies are read and dropped. The response is {@code 200}, {@code text/plain},
 * with a body chosen by the request's path (query ignored): {@code /1k} {@value #BODY_1K_SIZE} bytes,
 * {@code /64k} {@value #BODY_64K_SIZE} bytes, any other path {@value #BODY_SIZE} bytes. Epoll when it loads,
 * else NIO.
 */
@Command(name = "bench-backend", mixinStandardHelpOptions = true,
        description = "Fixed-response HTTP/1.1 + h2c (prior knowledge) backend for load tests.")
public final class BenchBackend implements Callable<Integer> {
    static final int BODY_SIZE = 64;
    static final int BODY_1K_SIZE = 1024;
    static final int BODY_64K_SIZE = 65536;
    private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /** Read-only bodies shared by all connections; each response writes a duplicate (no copy). */
    private static final ByteBuf BODY = body(BODY_SIZE);
    private static final ByteBuf BODY_1K = body(BODY_1K_SIZE);
    private static final ByteBuf BODY_64K = body(BODY_64K_SIZE);

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "port to bind (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--threads", defaultValue = "0", description = "event loops; 0 = one per processor")
    int threads;

    public static void main(String[] args) {
        System.exit(new CommandLine(new BenchBackend()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(threads, io);
        try {
            Channel server = bind(group, epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class,
                    host, port);
            System.out.printf("bench-backend listening on %s:%d (%s, bodies: / %d bytes, /1k %d, /64k %d)%n",
                    host, port, epoll ? "epoll" : "nio", BODY_SIZE, BODY_1K_SIZE, BODY_64K_SIZE);
            server.closeFuture().sync();
            return 0;
        } finally {
            group.shutdownGracefully();
        }
    }

    /** The listening channel on {@code group} (port 0: any free port). */
    static Channel bind(EventLoopGroup group, Class<? extends ServerChannel> serverChannel, String host, int port)
            throws InterruptedException {
        return new ServerBootstrap()
                .group(group)
                .channel(serverChannel)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(new ProtocolDetector());
                    }
                })
                .bind(host, port).sync().channel();
    }

    private static ByteBuf body(int size) {
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) 'x');
        b[size - 1] = '\n';
        return Unpooled.unreleasableBuffer(Unpooled.directBuffer(size).writeBytes(b).asReadOnly());
    }

    /** The shared body for a request path: {@code /1k}, {@code /64k} or, for any other path, the small one. */
    static ByteBuf bodyFor(CharSequence path) {
        if (path == null) {
            return BODY;
        }
        int end = path.length();
        for (int i = 0; i < end; i++) {
            if (path.charAt(i) == '?') {
                end = i;
                break;
            }
        }
        if (is(path, end, "/1k")) {
            return BODY_1K;
        }
        return is(path, end, "/64k") ? BODY_64K : BODY;
    }

    private static boolean is(CharSequence path, int end, String name) {
        if (end != name.length()) {
            return false;
        }
        for (int i = 0; i < end; i++) {
            if (path.charAt(i) != name.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** First handler of a connection: the HTTP/2 preface picks h2c, anything else HTTP/1.1. */
    private static final class ProtocolDetector extends ByteToMessageDecoder {
        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            int n = Math.min(in.readableBytes(), PREFACE.length);
            boolean prefix = true;
            for (int i = 0; i < n && prefix; i++) {
                prefix = in.getByte(in.readerIndex() + i) == PREFACE[i];
            }
            if (prefix && n < PREFACE.length) {
                return; // could still be HTTP/2
            }
            if (prefix) {
                ctx.pipeline().addLast(Http2FrameCodecBuilder.forServer().build(), new Http2Responder());
            } else {
                ctx.pipeline().addLast(new HttpServerCodec(), new HttpServerKeepAliveHandler(), new Http1Responder());
            }
            ctx.pipeline().remove(this);
        }
    }

    /**
     * Answers each HTTP/1.1 request once its last content has arrived, with the body its path picked;
     * flushes once per read burst. One per connection (requests on it arrive one after another).
     */
    private static final class Http1Responder extends ChannelInboundHandlerAdapter {
        private ByteBuf body = BODY;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpRequest request) {
                body = bodyFor(request.uri());
            }
            boolean last = msg instanceof LastHttpContent;
            ReferenceCountUtil.release(msg);
            if (last) {
                FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                        body.duplicate());
                response.headers()
                        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                        .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
                ctx.write(response, ctx.voidPromise());
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * Answers each HTTP/2 stream at end of stream, with the body its {@code :path} picked; returns
     * flow-control credit for request bodies it drops. One per connection.
     */
    private static final class Http2Responder extends ChannelInboundHandlerAdapter {
        /** The bodies of streams whose request has a body still arriving (rare here), by stream id. */
        private final Map<Integer, ByteBuf> pending = new HashMap<>();

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof Http2HeadersFrame headers) {
                    ByteBuf body = bodyFor(headers.headers().path());
                    if (headers.isEndStream()) {
                        respond(ctx, headers.stream(), body);
                    } else {
                        pending.put(headers.stream().id(), body);
                    }
                } else if (msg instanceof Http2DataFrame data) {
                    if (data.initialFlowControlledBytes() > 0) {
                        ctx.write(new DefaultHttp2WindowUpdateFrame(data.initialFlowControlledBytes()).stream(data.stream()));
                    }
                    if (data.isEndStream()) {
                        ByteBuf body = pending.remove(data.stream().id());
                        respond(ctx, data.stream(), body == null ? BODY : body);
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private static void respond(ChannelHandlerContext ctx, Http2FrameStream stream, ByteBuf body) {
            Http2Headers headers = new DefaultHttp2Headers()
                    .status(HttpResponseStatus.OK.codeAsText())
                    .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
                    .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            ctx.write(new DefaultHttp2HeadersFrame(headers).stream(stream));
            ctx.write(new DefaultHttp2DataFrame(body.duplicate(), true).stream(stream));
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
