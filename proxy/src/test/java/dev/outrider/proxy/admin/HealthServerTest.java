package dev.outrider.proxy.admin;

import dev.outrider.proxy.config.HostPort;
import dev.outrider.proxy.config.TransportKind;
import dev.outrider.proxy.transport.Transport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.outrider.proxy.admin.ServerTestSupport.send;
import static dev.outrider.proxy.admin.ServerTestSupport.uri;
import static org.assertj.core.api.Assertions.assertThat;

class HealthServerTest {
    private Transport transport;
    private HealthServer server;
    private final AtomicBoolean ready = new AtomicBoolean();
    private final HttpClient client = ServerTestSupport.client();

    @BeforeEach
    void start() throws InterruptedException {
        transport = Transport.create(TransportKind.NIO, 1, "test");
        server = HealthServer.start(transport, new HostPort("127.0.0.1", 0), ready::get);
    }

    @AfterEach
    void stop() {
        client.close();
        server.close().syncUninterruptibly();
        transport.group().shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void readyAndLive() throws Exception {
        assertThat(server.address().getPort()).isPositive();

        HttpResponse<String> notReady = send(client, HttpRequest.newBuilder(uri(server.address(), "/ready")).build());
        assertThat(notReady.statusCode()).isEqualTo(503);
        assertThat(notReady.body()).isEqualTo("not ready\n");

        ready.set(true);
        HttpResponse<String> ok = send(client, HttpRequest.newBuilder(uri(server.address(), "/ready")).build());
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.body()).isEqualTo("ready\n");
        assertThat(ok.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");

        HttpResponse<String> live = send(client, HttpRequest.newBuilder(uri(server.address(), "/live")).build());
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(live.body()).isEqualTo("live\n");

        HttpResponse<String> head = send(client, HttpRequest.newBuilder(uri(server.address(), "/live"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
    }

    @Test
    void unknownPathAndWrongMethod() throws Exception {
        HttpResponse<String> missing = send(client, HttpRequest.newBuilder(uri(server.address(), "/admin")).build());
        assertThat(missing.statusCode()).isEqualTo(404);

        HttpResponse<String> post = send(client, HttpRequest.newBuilder(uri(server.address(), "/ready"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build());
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
    }

    @Test
    void refusesLargeBodies() throws Exception {
        HttpResponse<String> res = send(client, HttpRequest.newBuilder(uri(server.address(), "/ready"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(64 * 1024))).build());
        assertThat(res.statusCode()).isEqualTo(413);
    }
}
