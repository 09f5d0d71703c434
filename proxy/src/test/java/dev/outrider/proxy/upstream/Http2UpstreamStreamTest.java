package dev.outrider.proxy.upstream;

import dev.outrider.proxy.config.TransportKind;
import dev.outrider.proxy.config.UpstreamConfig;
import dev.outrider.proxy.transport.Transport;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * HTTP/2 upstream streams without a channel per stream, against a real h2c server on loopback whose behaviour
 * each path scripts: a released stream is reset and the connection serves the next; one stalled stream is told
 * it is idle; GOAWAY and REFUSED_STREAM are reported as never processed; response bytes are given back to the
 * upstream's window only as the listener reads, and request writes stop at the upstream's window.
 */
class Http2UpstreamStreamTest {
    private static final int WINDOW = 65_535; // the initial stream window (RFC 9113 §6.9.2), both sides

    private Transport transport;
    private EventLoop loop;
    private UpstreamPool pool;
    private ScriptedH2Server server;
    private Endpoint endpoint;
    private final List<Recorder> opened = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = new ScriptedH2Server();
        transport = Transport.create(TransportKind.NIO, 1, "h2-upstream-test");
        loop = transport.group().next();
        pool = pool(Duration.ofSeconds(30));
        endpoint = new Endpoint(new InetSocketAddress("127.0.0.1", server.port()));
    }

    private UpstreamPool pool(Duration idleTimeout) {
        return new UpstreamPool(loop, transport, new UpstreamConfig(Duration.ofSeconds(2), Duration.ZERO,
                idleTimeout, 0, 20, 3, 128), io.netty.resolver.DefaultAddressResolverGroup.INSTANCE);
    }

    @AfterEach
    void stop() throws Exception {
        onLoop(() -> {
            for (Recorder r : opened) {
                r.stream.release(false); // what a stream still holds is released with it
            }
            pool.close();
            return null;
        });
        transport.group().shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        server.close();
    }

    @Test
    void aStreamReleasedMidResponseIsResetAndTheConnectionServesTheNext() throws Exception {
        Recorder stalled = open("/stall");
        assertThat(stalled.next()).isEqualTo("head 200");
        await().until(() -> stalled.body().equals("part"));
        int id = onLoop(() -> ((Http2UpstreamStream) stalled.stream).id());

        onLoop(() -> {
            stalled.stream.release(false);
            return null;
        });
        assertThat(server.resets.poll(5, TimeUnit.SECONDS)).isEqualTo(id + ":" + Http2Error.CANCEL.code());

        Recorder next = open("/ok");
        assertThat(next.next()).isEqualTo("head 200");
        assertThat(next.next()).isEqualTo("end");
        assertThat(next.body()).isEqualTo("ok");
        assertThat(server.accepted.get()).isEqualTo(1);
    }

    @Test
    void aStreamWithNothingMovingIsToldItIsIdleWhileAnotherOnTheConnectionCompletes() throws Exception {
        UpstreamPool first = pool;
        onLoop(() -> {
            first.close();
            return null;
        });
        pool = pool(Duration.ofMillis(300));
        Recorder stalled = open("/stall");
        assertThat(stalled.next()).isEqualTo("head 200");
        Recorder ok = open("/ok");
        assertThat(ok.next()).isEqualTo("head 200");
        assertThat(ok.next()).isEqualTo("end");

        assertThat(stalled.next()).isEqualTo("idle"); // after the 300 ms idle timeout
        assertThat(stalled.body()).isEqualTo("part");
        assertThat(server.accepted.get()).isEqualTo(1);
    }

    @Test
    void streamsAboveTheLastStreamIdOfAGoAwayFailAsNeverProcessedWhileTheOthersFinish() throws Exception {
        Recorder held = open("/hold");
        await().until(() -> server.held.size() == 1);

        Recorder above = open("/goaway"); // the server answers with GOAWAY(last stream id = the held stream)
        Object closed = above.nextEvent();
        assertThat(closed).isInstanceOf(UpstreamRefusedException.class);
        assertThat(UpstreamRefusedException.neverProcessed((Throwable) closed)).isTrue();

        server.answerHeld();
        assertThat(held.next()).isEqualTo("head 200");
        assertThat(held.next()).isEqualTo("end");
        assertThat(held.body()).isEqualTo("released");
    }

    @Test
    void refusedStreamIsReportedAsNeverProcessed() throws Exception {
        Recorder refused = open("/refuse");

        Object closed = refused.nextEvent();
        assertThat(closed).isInstanceOf(UpstreamRefusedException.class);
        assertThat(UpstreamRefusedException.neverProcessed((Throwable) closed)).isTrue();
    }

    @Test
    void responseBytesGoBackToTheUpstreamWindowOnlyAsTheListenerReads() throws Exception {
        int size = 1 << 20;
        Recorder big = new Recorder();
        big.autoRead = false; // a downstream that takes nothing more after the first read
        open("/big", big);
        assertThat(big.next()).isEqualTo("head 200");
        await().until(() -> server.windowExhausted());
        // a round trip on the connection (HEADERS only: the connection window is used up too), so what the client
        // sent before has reached the server
        Recorder noContent = open("/no-content");
        assertThat(noContent.next()).isEqualTo("head 204");
        assertThat(noContent.next()).isEqualTo("end");
        assertThat(server.windowUpdates.get()).as("WINDOW_UPDATEs of the /big stream before the listener read")
                .isZero();
        assertThat(big.bytes.get()).isLessThanOrEqualTo(WINDOW).isLessThan(size);

        big.autoRead = true;
        onLoop(() -> {
            big.stream.read();
            return null;
        });
        assertThat(big.next()).isEqualTo("end");
        assertThat(big.bytes.get()).isEqualTo(size);
    }

    @Test
    void requestWritesStopAtTheUpstreamWindowAndResumeWhenItOpens() throws Exception {
        Recorder upload = new Recorder();
        DefaultHttpRequest head = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/upload");
        head.headers().set(HttpHeaderNames.HOST, "upstream");
        UpstreamStream stream = acquire();
        upload.stream = stream;
        opened.add(upload);
        int written = onLoop(() -> {
            stream.bind(upload);
            stream.writeHead(head);
            int n = 0;
            while (stream.isWritable() && n < 4 * WINDOW) {
                stream.write(new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[4096])));
                stream.flush();
                n += 4096;
            }
            stream.read();
            return n;
        });
        assertThat(written).isLessThan(4 * WINDOW).isGreaterThanOrEqualTo(WINDOW);
        await().until(() -> server.uploaded.get() >= WINDOW);
        assertThat(onLoop(stream::isWritable)).isFalse();

        assertThat(upload.next()).isEqualTo("writable false");
        server.openUploadWindow();
        assertThat(upload.next()).isEqualTo("writable true");
    }

    // ---- the client side: a lease and a listener that records what it is told

    private UpstreamStream acquire() throws Exception {
        return onLoop(() -> pool.acquire(endpoint, true, null)).get(5, TimeUnit.SECONDS);
    }

    private Recorder open(String path) throws Exception {
        return open(path, new Recorder());
    }

    private Recorder open(String path, Recorder recorder) throws Exception {
        UpstreamStream stream = acquire();
        recorder.stream = stream;
        opened.add(recorder);
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        request.headers().set(HttpHeaderNames.HOST, "upstream");
        onLoop(() -> {
            stream.bind(recorder);
            stream.writeHead(request);
            stream.flush();
            stream.read();
            return null;
        });
        return recorder;
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    private static final class Recorder implements UpstreamListener {
        final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        final AtomicLong bytes = new AtomicLong();
        final StringBuffer body = new StringBuffer();
        volatile boolean autoRead = true;
        volatile UpstreamStream stream;

        @Override
        public void onUpstreamMessage(HttpObject msg) {
            try {
                if (msg instanceof HttpResponse r) {
                    events.add("head " + r.status().code());
                }
                if (msg instanceof HttpContent c) {
                    bytes.addAndGet(c.content().readableBytes());
                    if (body.length() < 64) {
                        body.append(c.content().toString(StandardCharsets.UTF_8));
                    }
                }
                if (msg instanceof LastHttpContent) {
                    events.add("end");
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void onUpstreamReadComplete() {
            if (autoRead) {
                stream.read();
            }
        }

        @Override
        public void onUpstreamWritabilityChanged(boolean writable) {
            events.add("writable " + writable);
        }

        @Override
        public void onUpstreamClosed(Throwable cause) {
            events.add(cause == null ? "closed" : cause);
        }

        @Override
        public void onUpstreamIdle() {
            events.add("idle");
        }

        Object nextEvent() throws InterruptedException {
            Object e = events.poll(10, TimeUnit.SECONDS);
            assertThat(e).as("an event within 10 s").isNotNull();
            return e;
        }

        String next() throws InterruptedException {
            return String.valueOf(nextEvent());
        }

        String body() {
            return body.toString();
        }
    }
}
