package dev.outrider.proxy.http;

import dev.outrider.proxy.config.HttpConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP/1.1 header timer on the codec's own output, with the event loop's clock moved by hand (1 s
 * timeout): when it runs and when it must not (a keep-alive connection idle between requests, a pipelined
 * request whose start arrived while the previous one is still being answered).
 */
class Http1HeaderTimeoutHandlerTest {
    private static final HttpConfig CONFIG = new HttpConfig(1024, 4096, 50, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(1));

    private final List<String> requests = new ArrayList<>();
    private EmbeddedChannel ch;

    private EmbeddedChannel channel() {
        ch = new EmbeddedChannel();
        ch.freezeTime();
        Http1ServerCodec codec = new Http1ServerCodec(DownstreamHttp.decoderConfig(CONFIG));
        long timeout = CONFIG.requestHeaderTimeout().toNanos();
        ch.pipeline().addLast(codec, new Http1HeaderTimeoutHandler(codec, timeout, System.nanoTime() + timeout),
                new Http1PipeliningHandler(), new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof HttpRequest r) {
                            requests.add(r.uri());
                        }
                        ReferenceCountUtil.release(msg);
                    }
                });
        return ch;
    }

    @AfterEach
    void finish() {
        if (ch != null) {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void firstRequestMustArriveByTheDeadlineEvenWithNoBytes() {
        channel();
        elapse(900);
        assertThat(responses()).isEmpty();
        elapse(200);
        assertThat(responses()).singleElement().asString().startsWith("HTTP/1.1 408 ");
    }

    @Test
    void completeRequestInTimeCancelsTheTimer() {
        channel();
        send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        elapse(5_000);
        assertThat(requests).containsExactly("/a");
        assertThat(responses()).isEmpty();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void keepAliveConnectionIdleBetweenRequestsIsNotTimed() {
        channel();
        send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        respond();
        elapse(60_000);
        assertThat(ch.isOpen()).isTrue();
        send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
        assertThat(requests).containsExactly("/a", "/b");
    }

    @Test
    void laterRequestIsTimedFromItsFirstByte() {
        channel();
        send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
        respond();
        elapse(10_000);
        send("GET /b HTTP/1.1\r\nHo");
        elapse(900);
        send("s");
        assertThat(responses()).hasSize(1); // the 200 only
        elapse(200);
        List<String> out = responses();
        assertThat(out).hasSize(2);
        assertThat(out.get(1)).startsWith("HTTP/1.1 408 ").containsIgnoringCase("connection: close");
        assertThat(requests).containsExactly("/a");
    }

    @Test
    void pipelinedRequestStartingWhileTheFirstIsAnsweredIsTimedFromTheAnswer() {
        channel();
        send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo");
        elapse(5_000); // /a is still being answered: the partial /b is not the client's delay
        assertThat(responses()).isEmpty();
        respond();
        elapse(900);
        assertThat(responses()).hasSize(1);
        elapse(200);
        List<String> out = responses();
        assertThat(out).hasSize(2);
        assertThat(out.get(1)).startsWith("HTTP/1.1 408 ");
    }

    @Test
    void noTimerAfterAResponseThatClosesTheConnection() {
        channel();
        send("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HT");
        FullHttpResponse close = response();
        close.headers().set(HttpHeaderNames.CONNECTION, "close");
        ch.writeOutbound(close);
        elapse(5_000);
        assertThat(responses()).hasSize(1);
    }

    private void send(String bytes) {
        ch.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
    }

    private void respond() {
        ch.writeOutbound(response());
    }

    private static FullHttpResponse response() {
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0);
        return r;
    }

    private void elapse(long millis) {
        ch.advanceTimeBy(millis, TimeUnit.MILLISECONDS);
        ch.runScheduledPendingTasks();
        ch.runPendingTasks();
    }

    /** Every response written so far, one string per response (the test's responses have no body). */
    private final List<String> written = new ArrayList<>();

    private List<String> responses() {
        StringBuilder text = new StringBuilder();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            text.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        for (String part : text.toString().split("(?=HTTP/1\\.1 )")) {
            if (!part.isEmpty()) {
                written.add(part);
            }
        }
        return List.copyOf(written);
    }
}
