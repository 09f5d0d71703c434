package dev.outrider.proxy.http;

import dev.outrider.proxy.config.HttpConfig;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http2.Http2FrameCodec;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class HttpProtocolDetectorTest {
    private static final HttpConfig CONFIG = new HttpConfig(8192, 16384, 100, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(10));

    private static EmbeddedChannel channel() {
        return new EmbeddedChannel(new HttpProtocolDetector(new DownstreamHttp(CONFIG, 1000,
                new Http2ConnectionErrorHandler(Direction.OUTBOUND, new ProxyMetrics(new SimpleMeterRegistry())),
                p -> p.addLast("marker", new ChannelInboundHandlerAdapter()))));
    }

    @Test
    void http1RequestInstallsTheHttp1Codec() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.copiedBuffer("GET /a HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.US_ASCII));
        assertThat(ch.pipeline().get(Http1ServerCodec.class)).isNotNull();
        assertThat(ch.pipeline().get(HttpProtocolDetector.class)).isNull();
        assertThat(ch.pipeline().get("marker")).isNotNull();
        HttpRequest request = ch.readInbound();
        assertThat(request.uri()).isEqualTo("/a");
        ch.finishAndReleaseAll();
    }

    @Test
    void prefaceInstallsHttp2EvenWhenSplitAcrossReads() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.copiedBuffer("PRI * HTTP/2.0\r\n", StandardCharsets.US_ASCII));
        assertThat(ch.pipeline().get(HttpProtocolDetector.class)).as("still undecided").isNotNull();
        ch.writeInbound(Unpooled.copiedBuffer("\r\nSM\r\n\r\n", StandardCharsets.US_ASCII));
        assertThat(ch.pipeline().get(Http2FrameCodec.class)).isNotNull();
        assertThat(ch.pipeline().get(HttpProtocolDetector.class)).isNull();
        assertThat(ch.config().isAutoRead()).isTrue();
        ch.finishAndReleaseAll();
    }

    @Test
    void aShortPrefixThatDivergesIsHttp1() {
        EmbeddedChannel ch = channel();
        ch.writeInbound(Unpooled.copiedBuffer("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                StandardCharsets.US_ASCII));
        assertThat(ch.pipeline().get(Http1ServerCodec.class)).isNotNull();
        ch.finishAndReleaseAll();
    }
}
