package dev.outrider.controlplane.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.timeout.IdleStateEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link ApiHandler} behind the real codec and aggregator, on an {@link EmbeddedChannel}
 * (no TLS: every caller is anonymous): answers in request order, held answers cancelled on close, idle only
 * when nothing is in flight, JSON 413.
 */
class ApiHandlerTest {
    private final CompletableFuture<ApiResponse> slow = new CompletableFuture<>();
    private final Router router = Router.builder(Runnable::run)
            .route(HttpMethod.GET, "/slow", Access.PUBLIC, r -> slow)
            .route(HttpMethod.GET, "/fast", Access.PUBLIC,
                    r -> CompletableFuture.completedFuture(ApiResponse.json(HttpResponseStatus.OK, Map.of("fast", true))))
            .route(HttpMethod.POST, "/echo", Access.PUBLIC, r -> CompletableFuture.completedFuture(
                    ApiResponse.json(HttpResponseStatus.OK, Map.of("bytes", r.body().length))))
            .route(HttpMethod.GET, "/unchanged", Access.PUBLIC,
                    r -> CompletableFuture.completedFuture(ApiResponse.empty(HttpResponseStatus.NOT_MODIFIED)))
            .route(HttpMethod.GET, "/boom", Access.PUBLIC, r -> {
                throw new IllegalStateException("a bug with a secret inside");
            })
            .build();
    private final EmbeddedChannel channel = new EmbeddedChannel(new HttpServerCodec(),
            new TooLargeAggregator(64), new ApiHandler(router, new Authenticator("cluster.local", Set.of(), null)));

    @AfterEach
    void finish() {
        channel.finishAndReleaseAll();
    }

    private void send(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    private String output() {
        StringBuilder out = new StringBuilder();
        for (Object o; (o = channel.readOutbound()) != null; ) {
            ByteBuf b = (ByteBuf) o;
            out.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return out.toString();
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrder() {
        send("GET /slow HTTP/1.1\r\nHost: cp\r\n\r\nGET /fast HTTP/1.1\r\nHost: cp\r\n\r\n");
        assertThat(output()).isEmpty();
        assertThat(channel.config().isAutoRead()).as("no reading while an answer is pending").isFalse();

        slow.complete(ApiResponse.json(HttpResponseStatus.ACCEPTED, Map.of("slow", true)));
        channel.runPendingTasks();

        String out = output();
        assertThat(out.indexOf("HTTP/1.1 202 Accepted")).isNotNegative()
                .isLessThan(out.indexOf("HTTP/1.1 200 OK"));
        assertThat(out.indexOf("{\"slow\":true}")).isLessThan(out.indexOf("{\"fast\":true}"));
        assertThat(out).contains("cache-control: no-store");
        assertThat(channel.config().isAutoRead()).isTrue();
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void heldAnswerIsCancelledWhenTheConnectionCloses() {
        send("GET /slow HTTP/1.1\r\nHost: cp\r\n\r\n");

        channel.close();

        assertThat(slow).isCancelled();
    }

    @Test
    void idleClosesOnlyWhenNothingIsInFlight() {
        send("GET /slow HTTP/1.1\r\nHost: cp\r\n\r\n");
        channel.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertThat(channel.isOpen()).isTrue();

        slow.complete(ApiResponse.empty(HttpResponseStatus.NO_CONTENT));
        channel.runPendingTasks();
        assertThat(output()).startsWith("HTTP/1.1 204 No Content");
        channel.pipeline().fireUserEventTriggered(IdleStateEvent.ALL_IDLE_STATE_EVENT);
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void oversizedBodyGetsJson413AndTheConnectionGoesOn() {
        send("POST /echo HTTP/1.1\r\nHost: cp\r\nContent-Length: 65\r\n\r\n" + "x".repeat(65)
                + "POST /echo HTTP/1.1\r\nHost: cp\r\nContent-Length: 64\r\n\r\n" + "y".repeat(64));

        String out = output();
        assertThat(out).startsWith("HTTP/1.1 413 Request Entity Too Large")
                .contains("{\"status\":413,\"reason\":\"TooLarge\",\"message\":\"request body is larger than 64 bytes\"}")
                .contains("HTTP/1.1 200 OK").endsWith("{\"bytes\":64}");
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void chunkedBodyCrossingTheLimitGets413AndClose() {
        send("POST /echo HTTP/1.1\r\nHost: cp\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n" + "x".repeat(64)
                + "\r\n1\r\nx\r\n0\r\n\r\n");

        assertThat(output()).startsWith("HTTP/1.1 413 Request Entity Too Large").contains("connection: close");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void malformedRequestIs400AndClose() {
        send("GET /fast%zz HTTP/1.1\r\nHost: cp\r\n\r\n");

        assertThat(output()).startsWith("HTTP/1.1 400 Bad Request").contains("connection: close")
                .contains("\"message\":\"malformed request target: ");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void handlerBugIs500WithoutItsMessage() {
        send("GET /boom HTTP/1.1\r\nHost: cp\r\n\r\n");

        String out = output();
        assertThat(out).startsWith("HTTP/1.1 500 Internal Server Error")
                .contains("\"reason\":\"Internal\"").doesNotContain("secret");
    }

    @Test
    void emptyAnswersHaveNoContentLengthAndKeepTheConnection() {
        send("GET /unchanged HTTP/1.1\r\nHost: cp\r\n\r\nGET /fast HTTP/1.1\r\nHost: cp\r\n\r\n");

        String out = output();
        String notModified = out.substring(0, out.indexOf("\r\n\r\n"));
        assertThat(notModified).startsWith("HTTP/1.1 304 Not Modified").doesNotContainIgnoringCase("content-length")
                .doesNotContainIgnoringCase("connection");
        assertThat(out).contains("HTTP/1.1 200 OK");
        assertThat(channel.isOpen()).isTrue();
    }

    @Test
    void http10KeepsAliveOnlyWhenAsked() {
        send("GET /fast HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assertThat(output()).contains("connection: keep-alive");
        assertThat(channel.isOpen()).isTrue();

        send("GET /fast HTTP/1.0\r\n\r\n");
        assertThat(output()).contains("connection: close");
        assertThat(channel.isOpen()).isFalse();
    }

    @Test
    void connectionCloseIsHonoured() {
        send("GET /fast HTTP/1.1\r\nHost: cp\r\nConnection: close\r\n\r\n");

        assertThat(output()).startsWith("HTTP/1.1 200 OK").contains("connection: close");
        assertThat(channel.isOpen()).isFalse();
    }
}
