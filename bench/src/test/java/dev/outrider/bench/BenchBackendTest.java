package dev.outrider.bench;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The backend of compare.sh over a real loopback socket: the response body's size follows the path, on one
 * keep-alive connection that alternates between sizes.
 */
class BenchBackendTest {
    private static EventLoopGroup group;
    private static Channel server;
    private static HttpClient client;

    @BeforeAll
    static void start() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        server = BenchBackend.bind(group, NioServerSocketChannel.class, "127.0.0.1", 0);
        client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        client.close();
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void bodySizeFollowsThePath() throws Exception {
        assertBody("/", 64);
        assertBody("/1k", 1024);
        assertBody("/64k", 65536);
        assertBody("/1k?x=1", 1024);
        assertBody("/64k", 65536);
        assertBody("/1kb", 64);
        assertBody("/other", 64);
    }

    private static void assertBody(String path, int size) throws Exception {
        int port = ((InetSocketAddress) server.localAddress()).getPort();
        HttpResponse<byte[]> response = client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).as(path).isEqualTo(200);
        assertThat(response.headers().firstValueAsLong("content-length")).as(path).hasValue(size);
        assertThat(response.body()).as(path).hasSize(size);
        assertThat(response.body()[size - 1]).as(path).isEqualTo((byte) '\n');
    }
}
