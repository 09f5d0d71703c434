package dev.outrider.proxy.http;

import dev.outrider.proxy.config.HttpConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Http1PipeliningHandler} on an EmbeddedChannel: request N+1 reaches the handlers after it only once
 * the response to request N is written. First with HttpObjects, then behind the real codec with the guard and
 * the 100-continue handler.
 */
class Http1PipeliningHandlerTest {
    private static final HttpConfig CONFIG = new HttpConfig(256, 1024, 10, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(10));

    private final ReadCounter reads = new ReadCounter();
    private final Recorder recorder = new Recorder();
    private EmbeddedChannel ch = new EmbeddedChannel(reads, new Http1PipeliningHandler(), recorder);

    @AfterEach
    void finish() {
        recorder.release();
        ch.finishAndReleaseAll();
    }

    @Test
    void theNextRequestWaitsUntilTheResponseIsWritten() {
        HttpRequest first = get("/a");
        HttpRequest second = get("/b");
        ch.writeInbound(first, LastHttpContent.EMPTY_LAST_CONTENT, second, LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(recorder.take()).containsExactly(first, LastHttpContent.EMPTY_LAST_CONTENT);

        ch.writeOutbound(response(HttpResponseStatus.OK));
        assertThat(recorder.take()).as("the head alone ends nothing").isEmpty();
        ch.writeOutbound(new DefaultHttpContent(Unpooled.copiedBuffer("body", StandardCharsets.UTF_8)));
        assertThat(recorder.take()).isEmpty();
        ch.writeOutbound(LastHttpContent.EMPTY_LAST_CONTENT);

        assertThat(recorder.take()).containsExactly(second, LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** A client's half-close goes on after the requests held before it, so they are all answered first. */
    @Test
    void aHalfCloseBehindHeldRequestsGoesOnAfterTheLastOfThem() {
        HttpRequest first = get("/a");
        HttpRequest second = get("/b");
        HttpRequest third = get("/c");
        ch.writeInbound(first, LastHttpContent.EMPTY_LAST_CONTENT, second, LastHttpContent.EMPTY_LAST_CONTENT,
                third, LastHttpContent.EMPTY_LAST_CONTENT);
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);
        assertThat(recorder.take()).containsExactly(first, LastHttpContent.EMPTY_LAST_CONTENT);

        ch.writeOutbound(response(HttpResponseStatus.OK), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(recorder.take()).containsExactly(second, LastHttpContent.EMPTY_LAST_CONTENT);

        int readCompletes = recorder.readCompletes;
        ch.writeOutbound(response(HttpResponseStatus.OK), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(recorder.take()).containsExactly(third, LastHttpContent.EMPTY_LAST_CONTENT,
                ChannelInputShutdownEvent.INSTANCE);
        assertThat(recorder.readCompletesAtEvent).as("after the read complete of the released request")
                .isEqualTo(readCompletes + 1);
    }

    @Test
    void aHalfCloseWithNothingHeldGoesOnAtOnce() {
        HttpRequest first = get("/a");
        ch.writeInbound(first, LastHttpContent.EMPTY_LAST_CONTENT);
        ch.pipeline().fireUserEventTriggered(ChannelInputShutdownEvent.INSTANCE);

        assertThat(recorder.take()).containsExactly(first, LastHttpContent.EMPTY_LAST_CONTENT,
                ChannelInputShutdownEvent.INSTANCE);
    }

    @Test
    void aLocalFullResponseEndsTheResponseToo() {
        HttpRequest second = get("/b");
        ch.writeInbound(get("/a"), LastHttpContent.EMPTY_LAST_CONTENT, second, LastHttpContent.EMPTY_LAST_CONTENT);
        recorder.take();

        ch.writeOutbound(LocalResponses.of(ch.alloc(), HttpResponseStatus.FORBIDDEN, "no", null));

        assertThat(recorder.take()).containsExactly(second, LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** HEAD, 204, 304: no body, but the writer still ends the response with a (empty) last content. */
    @Test
    void aBodylessResponseEndsWithItsLastContent() {
        HttpRequest second = get("/b");
        ch.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/a"),
                LastHttpContent.EMPTY_LAST_CONTENT, second, LastHttpContent.EMPTY_LAST_CONTENT);
        recorder.take();

        HttpResponse head = response(HttpResponseStatus.OK);
        head.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 1234);
        ch.writeOutbound(head, LastHttpContent.EMPTY_LAST_CONTENT);

        assertThat(recorder.take()).containsExactly(second, LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /** A {@code 100 Continue} (a FullHttpResponse from HttpServerExpectContinueHandler) answers no request. */
    @Test
    void anInterimResponseEndsNothing() {
        HttpRequest second = get("/b");
        ch.writeInbound(get("/a"), LastHttpContent.EMPTY_LAST_CONTENT, second, LastHttpContent.EMPTY_LAST_CONTENT);
        recorder.take();

        ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        ch.writeOutbound(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.EARLY_HINTS),
                LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(recorder.take()).isEmpty();

        ch.writeOutbound(response(HttpResponseStatus.OK), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(recorder.take()).containsExactly(second, LastHttpContent.EMPTY_LAST_CONTENT);
    }

    /**
     * The held request goes on in a later task, not inside the write that ended the response: the writer
     * (an exchange) finishes its bookkeeping before the next request reaches the handlers. Requests answered
     * at once (like one without a route) then go on one after another from that task.
     */
    @Test
    void theNextRequestGoesOnAfterTheWriterReturns() {
        Writer writer = new Writer();
        Answering answering = new Answering(writer);
        ch.finishAndReleaseAll();
        ch = new EmbeddedChannel(writer, new Http1PipeliningHandler(), answering);
        HttpRequest first = get("/a");
        HttpRequest second = get("/b");
        HttpRequest third = get("/c");
        ch.writeInbound(first, LastHttpContent.EMPTY_LAST_CONTENT, second, LastHttpContent.EMPTY_LAST_CONTENT,
                third, LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(recorder.take()).containsExactly(first, LastHttpContent.EMPTY_LAST_CONTENT);

        ch.writeInbound(Writer.RESPOND);

        assertThat(recorder.take()).containsExactly(second, LastHttpContent.EMPTY_LAST_CONTENT,
                third, LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(answering.arrivedWhileWriting).as("a request arrived inside the write of a response").isFalse();
        assertThat(outboundStatuses()).containsExactly(200, 404, 404);
    }

    @Test
    void readsStopWhileAnythingIsHeldAndReadCompleteFollowsTheRelease() {
        ch.writeInbound(get("/a"), LastHttpContent.EMPTY_LAST_CONTENT);
        recorder.take();
        int before = reads.count;
        ch.read();
        assertThat(reads.count).as("nothing held: the read goes on").isEqualTo(before + 1);

        ch.writeInbound(get("/b"));
        ch.read();
        assertThat(reads.count).as("a request is held: no more bytes").isEqualTo(before + 1);

        int completes = recorder.readCompletes;
        ch.writeOutbound(response(HttpResponseStatus.OK), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(recorder.take()).hasSize(1);
        assertThat(recorder.readCompletes).as("released messages end with channelReadComplete")
                .isEqualTo(completes + 1);
        ch.read();
        assertThat(reads.count).isEqualTo(before + 2);
    }

    /** A body still arriving after its request was answered (a local reply) belongs to that request: it passes. */
    @Test
    void theAnsweredRequestsBodyStillPassesAndTheNextRequestFollowsDirectly() {
        HttpRequest post = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/a");
        ch.writeInbound(post);
        ch.writeOutbound(LocalResponses.of(ch.alloc(), HttpResponseStatus.FORBIDDEN, "no", null));
        HttpContent part = new DefaultHttpContent(Unpooled.copiedBuffer("part", StandardCharsets.UTF_8));
        LastHttpContent end = new DefaultLastHttpContent();
        HttpRequest next = get("/b");

        ch.writeInbound(part, end, next);

        assertThat(recorder.take()).containsExactly(post, part, end, next);
    }

    @Test
    void atMostSixteenRequestsWaitAndTheLastOfThemClosesTheConnection() {
        ch.writeInbound(get("/0"), LastHttpContent.EMPTY_LAST_CONTENT);
        List<HttpRequest> heldRequests = new ArrayList<>();
        for (int i = 1; i <= Http1PipeliningHandler.MAX_HELD_REQUESTS; i++) {
            HttpRequest r = get("/" + i);
            heldRequests.add(r);
            ch.writeInbound(r, LastHttpContent.EMPTY_LAST_CONTENT);
        }
        HttpContent dropped = new DefaultLastHttpContent(Unpooled.copiedBuffer("x", StandardCharsets.UTF_8));
        ch.writeInbound(get("/17"), dropped, get("/18"), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(dropped.refCnt()).as("beyond the bound: dropped").isZero();
        recorder.take();

        for (HttpRequest expected : heldRequests) {
            ch.writeOutbound(response(HttpResponseStatus.OK), LastHttpContent.EMPTY_LAST_CONTENT);
            List<Object> released = recorder.take();
            assertThat(released).containsExactly(expected, LastHttpContent.EMPTY_LAST_CONTENT);
            boolean last = expected == heldRequests.getLast();
            assertThat(HttpUtil.isKeepAlive(expected)).as("keep-alive of %s", expected.uri()).isEqualTo(!last);
        }
        ch.writeOutbound(response(HttpResponseStatus.OK), LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(recorder.take()).isEmpty();
    }

    /** After a response that says Connection: close nothing more is answered: held and later messages go. */
    @Test
    void afterAResponseWithConnectionCloseEverythingIsDropped() {
        HttpContent held = new DefaultLastHttpContent(Unpooled.copiedBuffer("held", StandardCharsets.UTF_8));
        ch.writeInbound(get("/a"), LastHttpContent.EMPTY_LAST_CONTENT, post("/b"), held);
        recorder.take();

        HttpResponse closing = response(HttpResponseStatus.OK);
        HttpUtil.setKeepAlive(closing, false);
        ch.writeOutbound(closing, LastHttpContent.EMPTY_LAST_CONTENT);
        assertThat(held.refCnt()).isZero();

        HttpContent later = new DefaultLastHttpContent(Unpooled.copiedBuffer("later", StandardCharsets.UTF_8));
        ch.writeInbound(post("/c"), later);
        assertThat(later.refCnt()).isZero();
        assertThat(recorder.take()).isEmpty();
    }

    @Test
    void closingReleasesWhatIsHeld() {
        HttpContent held = new DefaultLastHttpContent(Unpooled.copiedBuffer("held", StandardCharsets.UTF_8));
        ch.writeInbound(get("/a"), LastHttpContent.EMPTY_LAST_CONTENT, post("/b"), held);
        recorder.take();

        ch.close();

        assertThat(held.refCnt()).isZero();
        assertThat(recorder.take()).isEmpty();
    }

    // ---- behind the real codec, with the guard and the 100-continue handler after this handler

    @Test
    void theGuardsRefusalOfAPipelinedRequestComesAfterTheResponseBeforeIt() {
        ch = codecChannel();
        String out = send("GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n");
        assertThat(out).as("nothing answered before the first response").isEmpty();
        assertThat(recorder.take()).hasSize(2);

        ch.writeOutbound(LocalResponses.of(ch.alloc(), HttpResponseStatus.OK, "first", null));
        String responses = outbound();

        assertThat(responses).startsWith("HTTP/1.1 200 ");
        assertThat(responses.indexOf("HTTP/1.1 400 ")).isGreaterThan(responses.indexOf("outrider: first"));
        assertThat(ch.isOpen()).isFalse();
        assertThat(recorder.take()).isEmpty();
    }

    @Test
    void continueForAPipelinedRequestIsSentWhenItsTurnComes() {
        ch = codecChannel();
        String out = send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
                + "POST /b HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\nhello");
        assertThat(out).as("no 100 Continue before the first response").isEmpty();
        assertThat(recorder.take()).hasSize(2);

        ch.writeOutbound(LocalResponses.of(ch.alloc(), HttpResponseStatus.OK, "first", null));
        String responses = outbound();

        assertThat(responses).startsWith("HTTP/1.1 200 ");
        assertThat(responses.indexOf("HTTP/1.1 100 Continue")).isGreaterThan(responses.indexOf("outrider: first"));
        List<Object> released = recorder.take();
        assertThat(released).hasSize(2);
        assertThat(((HttpRequest) released.get(0)).uri()).isEqualTo("/b");
        assertThat(((HttpContent) released.get(1)).content().toString(StandardCharsets.UTF_8)).isEqualTo("hello");
    }

    private EmbeddedChannel codecChannel() {
        ch.finishAndReleaseAll();
        return new EmbeddedChannel(new Http1ServerCodec(DownstreamHttp.decoderConfig(CONFIG)),
                new Http1PipeliningHandler(), new RequestGuardHandler(CONFIG.maxHeaderCount()),
                new HttpServerExpectContinueHandler(), recorder);
    }

    private String send(String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        return outbound();
    }

    private String outbound() {
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    private List<Integer> outboundStatuses() {
        List<Integer> statuses = new ArrayList<>();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            if (o instanceof HttpResponse r) {
                statuses.add(r.status().code());
            }
            ReferenceCountUtil.release(o);
        }
        return statuses;
    }

    private static HttpRequest get(String uri) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        r.headers().set(HttpHeaderNames.HOST, "a");
        return r;
    }

    private static HttpRequest post(String uri) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, uri);
        r.headers().set(HttpHeaderNames.HOST, "a");
        return r;
    }

    private static HttpResponse response(HttpResponseStatus status) {
        return new DefaultHttpResponse(HttpVersion.HTTP_1_1, status);
    }

    /** The handlers after the pipelining handler: records what reaches them and each channelReadComplete. */
    private static final class Recorder extends ChannelInboundHandlerAdapter {
        private final List<Object> messages = new ArrayList<>();
        private final List<Object> taken = new ArrayList<>();
        int readCompletes;
        int readCompletesAtEvent = -1;

        @Override
        public boolean isSharable() {
            return true; // reused by the channel a test builds itself
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            messages.add(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            readCompletes++;
        }

        /** Events arrive among the messages; {@link #readCompletesAtEvent} says how many read completes preceded. */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            messages.add(evt);
            readCompletesAtEvent = readCompletes;
        }

        /** What arrived since the last call; released by {@link #release} after the test. */
        List<Object> take() {
            List<Object> recent = List.copyOf(messages);
            taken.addAll(recent);
            messages.clear();
            return recent;
        }

        void release() {
            take();
            taken.forEach(ReferenceCountUtil::release);
            taken.clear();
        }
    }

    /** First in the pipeline: counts the reads that reach the channel. */
    private static final class ReadCounter extends ChannelOutboundHandlerAdapter {
        int count;

        @Override
        public void read(ChannelHandlerContext ctx) {
            count++;
            ctx.read();
        }
    }

    /**
     * First in the pipeline: on {@link #RESPOND} writes the first response from the tail, as an exchange does
     * when its upstream's response ends, and is busy until it returns (an exchange's bookkeeping).
     */
    private static final class Writer extends ChannelInboundHandlerAdapter {
        static final Object RESPOND = new Object();
        boolean busy;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg != RESPOND) {
                ctx.fireChannelRead(msg);
                return;
            }
            busy = true;
            ctx.channel().write(response(HttpResponseStatus.OK));
            ctx.channel().writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
            busy = false;
        }
    }

    /** Records like {@link Recorder}; answers every request but the first at once (a local 404). */
    private final class Answering extends ChannelInboundHandlerAdapter {
        private final Writer writer;
        private boolean first = true;
        private boolean writing;
        boolean arrivedWhileWriting;

        Answering(Writer writer) {
            this.writer = writer;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            arrivedWhileWriting |= writing || writer.busy;
            recorder.channelRead(ctx, msg);
            if (msg instanceof LastHttpContent) {
                if (first) {
                    first = false; // answered by the test
                } else {
                    writing = true;
                    ctx.writeAndFlush(LocalResponses.of(ctx.alloc(), HttpResponseStatus.NOT_FOUND, "no route", null));
                    writing = false;
                }
            }
        }
    }
}
