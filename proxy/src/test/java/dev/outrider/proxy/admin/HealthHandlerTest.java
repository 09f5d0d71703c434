package dev.outrider.proxy.admin;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

class HealthHandlerTest {

    @Test
    void readyFollowsTheSupplier() {
        AtomicBoolean ready = new AtomicBoolean(false);
        EmbeddedChannel ch = new EmbeddedChannel(new HealthHandler(ready::get));

        assertResponse(ch, HttpMethod.GET, "/ready", HttpResponseStatus.SERVICE_UNAVAILABLE, "not ready\n");
        ready.set(true);
        assertResponse(ch, HttpMethod.GET, "/ready?probe=1", HttpResponseStatus.OK, "ready\n");
        assertResponse(ch, HttpMethod.GET, "/live", HttpResponseStatus.OK, "live\n");
        assertResponse(ch, HttpMethod.GET, "/nope", HttpResponseStatus.NOT_FOUND, "not found\n");

        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void notReadyNamesTheReason() {
        java.util.concurrent.atomic.AtomicReference<String> why = new java.util.concurrent.atomic.AtomicReference<>(
                "no policy snapshot from the control plane yet");
        EmbeddedChannel ch = new EmbeddedChannel(new HealthHandler((Readiness) why::get));

        assertResponse(ch, HttpMethod.GET, "/ready", HttpResponseStatus.SERVICE_UNAVAILABLE,
                "not ready: no policy snapshot from the control plane yet\n");
        why.set(null);
        assertResponse(ch, HttpMethod.GET, "/ready", HttpResponseStatus.OK, "ready\n");
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void headHasTheLengthButNoBody() {
        EmbeddedChannel ch = new EmbeddedChannel(new HealthHandler(() -> true));
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/live"));
        FullHttpResponse res = ch.readOutbound();
        try {
            assertThat(res.status()).isEqualTo(HttpResponseStatus.OK);
            assertThat(res.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(5);
            assertThat(res.content().readableBytes()).isZero();
        } finally {
            res.release();
        }
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    @Test
    void otherMethodsAreNotAllowed() {
        EmbeddedChannel ch = new EmbeddedChannel(new HealthHandler(() -> true));
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/ready"));
        FullHttpResponse res = ch.readOutbound();
        try {
            assertThat(res.status()).isEqualTo(HttpResponseStatus.METHOD_NOT_ALLOWED);
            assertThat(res.headers().get(HttpHeaderNames.ALLOW)).isEqualTo("GET, HEAD");
        } finally {
            res.release();
        }
        assertThat(ch.finishAndReleaseAll()).isFalse();
    }

    private static void assertResponse(EmbeddedChannel ch, HttpMethod method, String uri,
                                       HttpResponseStatus status, String body) {
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri));
        FullHttpResponse res = ch.readOutbound();
        try {
            assertThat(res.status()).isEqualTo(status);
            assertThat(res.content().toString(StandardCharsets.UTF_8)).isEqualTo(body);
            assertThat(res.headers().getInt(HttpHeaderNames.CONTENT_LENGTH)).isEqualTo(body.length());
        } finally {
            res.release();
        }
    }
}
