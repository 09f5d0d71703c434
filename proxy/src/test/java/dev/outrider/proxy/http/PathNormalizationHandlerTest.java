package dev.outrider.proxy.http;

import dev.outrider.proxy.config.PathParameters;
import dev.outrider.proxy.config.HttpConfig;
import dev.outrider.proxy.config.EscapedSlashes;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** The HTTP/1.1 request handlers up to and including path normalization, on an EmbeddedChannel. */
class PathNormalizationHandlerTest {
    private static final HttpConfig CONFIG = new HttpConfig(1024, 4096, 50, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(10));
    private EmbeddedChannel ch = channel(EscapedSlashes.REJECT);

    private static EmbeddedChannel channel(EscapedSlashes mode) {
        return new EmbeddedChannel(
                new Http1ServerCodec(DownstreamHttp.decoderConfig(CONFIG)),
                new RequestGuardHandler(CONFIG.maxHeaderCount()),
                new HttpServerExpectContinueHandler(),
                new PathNormalizationHandler(new RequestPathPolicy.Rules(mode, PathParameters.REJECT)));
    }

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

    /** The URI the next handler (authorization, forwarding) sees for {@code target}. */
    private String forwarded(String target) {
        assertThat(send("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n")).as("no local response").isEmpty();
        HttpRequest request = ch.readInbound();
        assertThat(request).as("the request reaches the next handler").isNotNull();
        LastHttpContent end = ch.readInbound();
        end.release();
        return request.uri();
    }

    private void assertRefused(String target, String reason) {
        String response = send("GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400 ").containsIgnoringCase("connection: close")
                .contains("outrider: " + reason);
        assertThat((Object) ch.readInbound()).as("nothing reaches the next handler").isNull();
        assertThat(ch.isOpen()).isFalse();
    }

    /** CVE-2019-9901: what is matched and what is forwarded is /admin, not /public/../admin. */
    @ParameterizedTest
    @ValueSource(strings = {"/public/../admin", "/public/./../admin", "/public/%2e%2e/admin", "//admin",
            "/./admin", "/%2e%2e/admin", "/a/b/../../admin", "/../../admin", "/%61dmin", "/%61%64%6D%69%6e"})
    void dotSegmentsAndEncodedUnreservedAreResolvedBeforeForwarding(String target) {
        assertThat(forwarded(target)).isEqualTo("/admin");
    }

    /** CVE-2021-31920: escaped slashes are refused by default. */
    @ParameterizedTest
    @ValueSource(strings = {"/public%2F..%2Fadmin", "/public%2f..%2fadmin", "/public%5C..%5Cadmin",
            "/public%5c..%5cadmin"})
    void escapedSlashesAreRefusedByDefault(String target) {
        assertRefused(target, "encoded slash or backslash in path");
    }

    @Test
    void escapedSlashesAreDecodedThenNormalizedInDecodeMode() {
        ch.finishAndReleaseAll();
        ch = channel(EscapedSlashes.DECODE);
        assertThat(forwarded("/public%2F..%2Fadmin")).isEqualTo("/admin");
        assertThat(forwarded("/public%5c..%5cadmin?x=%2F")).isEqualTo("/admin?x=%2F");
    }

    @Test
    void escapedSlashesStayEncodedInKeepMode() {
        ch.finishAndReleaseAll();
        ch = channel(EscapedSlashes.KEEP);
        assertThat(forwarded("/public%2f..%2fadmin")).isEqualTo("/public%2F..%2Fadmin");
    }

    /** CVE-2021-39156: a fragment in the request target. */
    @ParameterizedTest
    @ValueSource(strings = {"/admin#public", "/public/#/../admin"})
    void fragmentsAreRefused(String target) {
        assertRefused(target, "fragment in request target");
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /a%00b         | encoded control character in path
            /a%zz          | invalid percent-encoding in path
            /a%4           | invalid percent-encoding in path
            /a\\b           | backslash in path
            *              | request target is not a path
            example.com:80 | request target is not a path
            """)
    void malformedTargetsAreRefused(String target, String reason) {
        assertRefused(target, reason);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /p?x=%2F                   | /p?x=%2F
            /a/../p?x=%2f&y=/../..     | /p?x=%2f&y=/../..
            /p?                        | /p?
            /%7Euser/%c3%a9            | /~user/%C3%A9
            """)
    void theQueryIsForwardedUntouched(String target, String expected) {
        assertThat(forwarded(target)).isEqualTo(expected);
    }

    @Test
    void absoluteFormBecomesOriginFormAndItsAuthorityTheHost() {
        assertThat(send("GET http://Svc.Example:8080/public/../admin?q=1 HTTP/1.1\r\nHost: other\r\n\r\n"))
                .isEmpty();
        HttpRequest request = ch.readInbound();
        assertThat(request.uri()).isEqualTo("/admin?q=1");
        assertThat(request.headers().getAll("host")).containsExactly("Svc.Example:8080");
        LastHttpContent end = ch.readInbound();
        end.release();
    }

    @Test
    void aCanonicalTargetIsPassedOnAsTheSameString() {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/api/v1/users?id=7");
        String uri = request.uri();
        ch.finishAndReleaseAll();
        ch = new EmbeddedChannel(new PathNormalizationHandler(RequestPathPolicy.Rules.DEFAULT));
        ch.writeInbound(request);
        HttpRequest passed = ch.readInbound();
        assertThat(passed).isSameAs(request);
        assertThat(passed.uri()).isSameAs(uri);
    }

    /** The body and a pipelined request behind a refused request never reach the next handler. */
    @Test
    void whatFollowsARefusedRequestIsDropped() {
        String response = send("POST /public%2F..%2Fadmin HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /admin HTTP/1.1\r\nHost: a\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 400 ");
        assertThat(response.split("HTTP/1.1 ", -1)).as("one response").hasSize(2);
        assertThat((Object) ch.readInbound()).isNull();
        assertThat(ch.isOpen()).isFalse();
    }

    @Test
    void aRefusedRequestsBodyIsReleased() {
        ch.finishAndReleaseAll();
        ch = new EmbeddedChannel(new PathNormalizationHandler(RequestPathPolicy.Rules.DEFAULT));
        HttpContent body = new DefaultHttpContent(Unpooled.copiedBuffer("abc", StandardCharsets.US_ASCII));
        ch.writeInbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/a#b"), body);
        assertThat(body.refCnt()).isZero();
        assertThat((Object) ch.readInbound()).isNull();
        FullHttpResponse response = ch.readOutbound(); // no HTTP encoder here: the response as a message
        assertThat(response.status()).isEqualTo(HttpResponseStatus.BAD_REQUEST);
        response.release();
        assertThat(ch.isOpen()).isFalse();
    }
}
