package dev.outrider.proxy.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.outrider.proxy.LeakGuard;
import dev.outrider.proxy.config.HttpConfig;
import dev.outrider.proxy.http.RequestPathPolicy.Rules;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The HTTP/1.1 front of a downstream connection as {@link DownstreamHttp#addHttp1} builds it ({@link Http1ServerCodec},
 * {@link Http1PipeliningHandler}, {@link RequestGuardHandler}, 100-continue) with {@link PathNormalizationHandler}
 * and a stand-in application that answers each request a task later (so pipelined requests are held), on an
 * EmbeddedChannel. The input is the bytes a client sends, fed twice: in one read, and cut into reads of 1 to 8
 * bytes at places derived from the input.
 *
 * <p>Each feed: only documented responses are written (100, the application's 200, the local 400/408/414/431),
 * nothing after a refusal, and the connection is closed after one; no exception reaches the end of the pipeline;
 * the application never sees a body without its request or a request inside another's body; every buffer the
 * channel allocated is released once the channel is finished (checked per input with a counting allocator, and
 * by Netty's detector at PARANOID through {@link LeakGuard}). Both feeds: the requests the application sees do not
 * depend on how the bytes were cut (one list is a prefix of the other, and a feed that ended in a refusal saw
 * no more requests than the other), since a request that one parse sees and another does not is smuggling.
 *
 * <p>Regression inputs: {@code src/test/resources/dev/outrider/proxy/http/Http1FrontFuzzTestInputs/}; fuzzing:
 * docs/fuzzing.md.
 */
class Http1FrontFuzzTest {
    /** Small limits, so that 414 and 431 are a few hundred bytes away. */
    private static final HttpConfig CONFIG = new HttpConfig(256, 1024, 10, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(10));
    private static final DownstreamHttp HTTP = new DownstreamHttp(CONFIG, 1000,
            new Http2ConnectionErrorHandler(Direction.INBOUND, new ProxyMetrics(new SimpleMeterRegistry())), p -> {
                p.addLast("normalize", new PathNormalizationHandler(Rules.DEFAULT));
                DownstreamHttp.addExpectContinue(p);
                p.addLast("app", new Application());
            });
    /** 100 Continue, the application's 200, and the refusals of the guard, path rules and header timeout. */
    private static final Set<Integer> DOCUMENTED = Set.of(100, 200, 400, 408, 414, 431);
    private static final int MAX_RECORDED_BODY = 1 << 16;

    @FuzzTest
    void onlyDocumentedOutcomes(byte[] input) {
        Outcome whole = feed(input, false);
        Outcome split = feed(input, true);
        Outcome shorter = whole.requests.size() <= split.requests.size() ? whole : split;
        Outcome longer = shorter == whole ? split : whole;
        check(longer.requests.subList(0, shorter.requests.size()).equals(shorter.requests), input,
                "the requests seen depend on how the bytes were cut:\n  whole: " + whole.requests
                        + "\n  split: " + split.requests);
        for (Outcome refused : List.of(whole, split)) {
            Outcome other = refused == whole ? split : whole;
            check(!refused.endedInRefusal || other.requests.size() <= refused.requests.size(), input,
                    "a refusal in one feed is a request in the other:\n  whole: " + whole + "\n  split: " + split);
        }
        LeakGuard.assertNoLeakReported("an input of " + getClass().getSimpleName());
    }

    private static Outcome feed(byte[] input, boolean split) {
        CountingAllocator alloc = new CountingAllocator();
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setAllocator(alloc);
        HTTP.addHttp1(ch.pipeline());
        Application app = ch.pipeline().get(Application.class);
        ResponseRecorder responses = new ResponseRecorder(app);
        ch.pipeline().addAfter("http1", "responses", responses);
        Outcome outcome;
        try {
            SplittableRandom cuts = new SplittableRandom(Arrays.hashCode(input));
            int at = 0;
            while (at < input.length && ch.isOpen()) {
                int n = split ? Math.min(1 + cuts.nextInt(8), input.length - at) : input.length;
                ByteBuf read = alloc.buffer(n).writeBytes(input, at, n);
                at += n;
                ch.writeInbound(read); // throws what reached the end of the pipeline
                drainOutbound(ch);
            }
            ch.runPendingTasks();
            drainOutbound(ch);
            ch.checkException();
            String feed = split ? "split feed" : "whole feed";
            check(app.problem == null, input, feed + ": " + app.problem);
            check(responses.problem == null, input, feed + ": " + responses.problem);
            check(!responses.refused || !ch.isOpen(), input, feed + ": still open after a refusal");
            outcome = new Outcome(List.copyOf(app.requests), responses.refused, List.copyOf(responses.statuses));
        } finally {
            ch.finishAndReleaseAll();
        }
        String leaked = alloc.unreleased();
        check(leaked == null, input, (split ? "split" : "whole") + " feed leaked " + leaked);
        return outcome;
    }

    private static void drainOutbound(EmbeddedChannel ch) {
        Object o;
        while ((o = ch.readOutbound()) != null) {
            ReferenceCountUtil.release(o);
        }
    }

    private record Outcome(List<String> requests, boolean endedInRefusal, List<Integer> statuses) {
    }

    /**
     * Stands in for forwarding: records each request (head without {@code Connection}, body, trailers) and
     * answers it a task later with 200, closing after a response that says {@code Connection: close}.
     */
    private static final class Application extends ChannelInboundHandlerAdapter {
        final List<String> requests = new ArrayList<>();
        String problem;
        private StringBuilder current;
        private boolean keepAlive;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                if (msg instanceof HttpRequest request) {
                    if (current != null && problem == null) {
                        problem = "a request head inside the body of the previous request: " + request.uri();
                    }
                    keepAlive = HttpUtil.isKeepAlive(request);
                    current = new StringBuilder().append(request.method()).append(' ').append(request.uri())
                            .append(' ').append(request.protocolVersion());
                    for (Map.Entry<String, String> h : request.headers()) {
                        if (!h.getKey().equalsIgnoreCase(HttpHeaderNames.CONNECTION.toString())) {
                            current.append('|').append(h.getKey()).append(": ").append(h.getValue());
                        }
                    }
                    current.append("||");
                }
                if (msg instanceof HttpContent content) {
                    if (current == null) {
                        if (problem == null) {
                            problem = "a body without its request";
                        }
                        return;
                    }
                    if (current.length() < MAX_RECORDED_BODY) {
                        current.append(content.content().toString(StandardCharsets.ISO_8859_1));
                    }
                    if (msg instanceof LastHttpContent last) {
                        for (Map.Entry<String, String> t : last.trailingHeaders()) {
                            current.append("|trailer ").append(t.getKey()).append(": ").append(t.getValue());
                        }
                        requests.add(current.toString());
                        current = null;
                        boolean close = !keepAlive;
                        ctx.executor().execute(() -> respond(ctx, close));
                    }
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
            ctx.read();
        }

        private static void respond(ChannelHandlerContext ctx, boolean close) {
            if (!ctx.channel().isActive()) {
                return;
            }
            ByteBuf body = ctx.alloc().buffer().writeBytes("ok\n".getBytes(StandardCharsets.US_ASCII));
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
            HttpUtil.setContentLength(response, body.readableBytes());
            HttpUtil.setKeepAlive(response, !close);
            ctx.writeAndFlush(response);
            if (close) {
                ctx.close();
            }
        }
    }

    /** Right after the codec: every response head written, checked against {@link #DOCUMENTED}. */
    private static final class ResponseRecorder extends ChannelOutboundHandlerAdapter {
        final List<Integer> statuses = new ArrayList<>();
        private final Application app;
        boolean refused;
        String problem;

        ResponseRecorder(Application app) {
            this.app = app;
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            if (msg instanceof HttpResponse response && problem == null) {
                int code = response.status().code();
                statuses.add(code);
                if (refused) {
                    problem = "response " + code + " written after a refusal: " + statuses;
                } else if (!DOCUMENTED.contains(code)) {
                    problem = "undocumented response " + code + ": " + statuses;
                } else if (code == 200 && statuses.stream().filter(s -> s == 200).count() > app.requests.size()) {
                    problem = "more 200s than requests the application saw";
                }
                refused = code >= 400;
            }
            ctx.write(msg, promise);
        }
    }

    /**
     * Unpooled buffers whose reference counts are checked when the channel is finished: a leak shows up with the
     * input that caused it, not when a later GC lets Netty's detector notice.
     */
    private static final class CountingAllocator extends AbstractByteBufAllocator {
        private final List<ByteBuf> allocated = new ArrayList<>();

        CountingAllocator() {
            super(false);
        }

        @Override
        protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
        }

        @Override
        protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
        }

        @Override
        public boolean isDirectBufferPooled() {
            return false;
        }

        @Override
        public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
            return track(super.compositeHeapBuffer(maxNumComponents));
        }

        @Override
        public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
            return track(super.compositeDirectBuffer(maxNumComponents));
        }

        private <B extends ByteBuf> B track(B buf) {
            allocated.add(buf);
            return buf;
        }

        /** A description of the buffers still referenced, or null when every one was released. */
        String unreleased() {
            List<String> live = new ArrayList<>();
            for (ByteBuf b : allocated) {
                if (b.refCnt() > 0) {
                    live.add(b.toString());
                }
            }
            return live.isEmpty() ? null : live.size() + " of " + allocated.size() + " buffers: " + live;
        }
    }

    private static void check(boolean property, byte[] input, String what) {
        if (!property) {
            throw new AssertionError(what + "\n  input: "
                    + RequestPathPolicyFuzzTest.printable(new String(input, StandardCharsets.ISO_8859_1)));
        }
    }
}
