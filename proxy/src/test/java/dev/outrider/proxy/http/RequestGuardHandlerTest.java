package dev.outrider.proxy.http;

import dev.outrider.proxy.config.HttpConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The strict HTTP/1.1 decoder configuration plus the guard, on an EmbeddedChannel. */
class RequestGuardHandlerTest {
    private static final HttpConfig CONFIG = new HttpConfig(256, 1024, 10, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(10));
    private final EmbeddedChannel ch = new EmbeddedChannel(
            new Http1ServerCodec(DownstreamHttp.decoderConfig(CONFIG)),
            new RequestGuardHandler(CONFIG.maxHeaderCount(), CONFIG.upgrades()));

    @AfterEach
    void finish() {
        ch.finishAndReleaseAll();
    }

    private String send(String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    @Test
    void anUpgradeToAnAllowedProtocolGoesOn() {
        assertThat(send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n")).isEmpty();
        HttpRequest request = ch.readInbound();
        assertThat(Upgrades.requested(request)).isEqualTo("WebSocket");
        ReferenceCountUtil.release(request);
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2c", "websocket, tls/1.3", "foo"})
    void anUpgradeToAProtocolNotAllowedIs403BeforeAnythingElseSeesIt(String upgrade) {
        String response = send("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: " + upgrade
                + "\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 403 ");
        assertThat(response).contains("is not allowed (allowed: websocket)");
        assertThat((Object) ch.readInbound()).as("nothing reaches the next handler").isNull();
    }

    @Test
    void anUpgradeFieldWithoutConnectionUpgradeIsNoUpgrade() {
        assertThat(send("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n")).isEmpty();
        HttpRequest request = ch.readInbound();
        assertThat(Upgrades.requested(request)).isNull(); // header hygiene removes the stray field
        ReferenceCountUtil.release(request);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // Content-Length together with Transfer-Encoding (RFC 9112 §6.1)
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            // differing duplicate Content-Length (RFC 9112 §6.3)
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            // invalid characters in a field name
            "GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nX\u0001: y\r\n\r\n",
            // a control character in a value
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\u0000c\r\n\r\n",
            // obs-fold (RFC 9112 §5.2)
            "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n",
            // bare LF (RFC 9112 §2.2)
            "GET / HTTP/1.1\nHost: a\n\n",
            // a final transfer coding other than chunked in a request (RFC 9112 §6.3)
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
            // no Host in HTTP/1.1 (RFC 9112 §3.2)
            "GET / HTTP/1.1\r\nX-A: b\r\n\r\n",
    })
    void smugglingShapesAre400AndCloseTheConnection(String raw) {
        String response = send(raw);
        assertThat(response).startsWith("HTTP/1.1 400 ");
        assertThat(response).containsIgnoringCase("connection: close");
        assertThat((Object) ch.readInbound()).as("nothing reaches the next handler").isNull();
        assertThat(ch.isOpen()).isFalse();
    }

    /** RFC 9112 §3.2: one Host, holding one authority; authorization and the application read the same one. */
    @ParameterizedTest
    @ValueSource(strings = {
            "GET / HTTP/1.1\r\nHost: allowed\r\nHost: denied\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: allowed\r\nHost: allowed\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: allowed, denied\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: allowed,denied\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: user@denied\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: denied/x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a:\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: :80\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a%2eb\r\n\r\n",
    })
    void duplicateOrListValuedOrMalformedHostIs400(String raw) {
        String response = send(raw);
        assertThat(response).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close")
                .containsPattern("more than one Host header|invalid Host header");
        assertThat((Object) ch.readInbound()).as("nothing reaches the next handler").isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {"orders", "orders.shop.svc.cluster.local:8080", "127.0.0.1:15001", "[::1]:80",
            "[fe80::1]", "my_host-1.example", "Admin.Example.COM.", ""})
    void aSingleValidAuthorityPasses(String host) {
        send("GET / HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
        HttpRequest request = ch.readInbound();
        assertThat(request).isNotNull();
        assertThat(request.headers().getAll("host")).containsExactly(host);
    }

    @Test
    void longRequestLineIs414() {
        String response = send("GET /" + "a".repeat(300) + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 414 ");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void largeHeaderBlockIs431() {
        String response = send("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + "b".repeat(2000) + "\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 431 ");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void tooManyHeaderFieldsIs431() {
        StringBuilder raw = new StringBuilder("GET / HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < 11; i++) {
            raw.append("X-").append(i).append(": v\r\n");
        }
        String response = send(raw.append("\r\n").toString());
        assertThat(response).startsWith("HTTP/1.1 431 ").contains("too many header fields");
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aWellFormedRequestPassesThrough() {
        assertThat(send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc")).isEmpty();
        HttpRequest request = ch.readInbound();
        assertThat(request.uri()).isEqualTo("/x");
        LastHttpContent body = ch.readInbound();
        assertThat(body.content().toString(StandardCharsets.US_ASCII)).isEqualTo("abc");
        body.release();
        assertThat(ch.isOpen()).isTrue();
    }

    @Test
    void chunkedBodyWithTrailersPassesThrough() {
        assertThat(send("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "3\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n")).isEmpty();
        HttpRequest request = ch.readInbound();
        assertThat(request.headers().get("transfer-encoding")).isEqualTo("chunked");
        io.netty.handler.codec.http.HttpContent chunk = ch.readInbound();
        chunk.release();
        LastHttpContent last = ch.readInbound();
        assertThat(last.trailingHeaders().get("X-Checksum")).isEqualTo("1");
        last.release();
    }

    /** The Host checks judge HTTP/1.1's map (counted in place) and HTTP/2's (Netty's default) alike. */
    @Test
    void hostProblemIsTheSameOnEitherHeaderMap() {
        HttpHeaders netty = DefaultHttpHeadersFactory.headersFactory().newHeaders();
        for (HttpHeaders h : List.of(netty, new CompactHttpHeaders(1))) {
            assertThat(RequestGuardHandler.hostProblem(h)).isNull();
            h.add(HttpHeaderNames.HOST, "a.example:8080");
            assertThat(RequestGuardHandler.hostProblem(h)).isNull();
            h.set("host", "a b");
            assertThat(RequestGuardHandler.hostProblem(h)).isEqualTo("invalid Host header");
            h.set("Host", "a.example").add("x", "y").add("HOST", "a.example");
            assertThat(RequestGuardHandler.hostProblem(h)).isEqualTo("more than one Host header");
        }
    }
}
