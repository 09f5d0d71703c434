package dev.outrider.proxy.http;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class HeaderHygieneTest {
    @Test
    void removesHopByHopFieldsAndThoseNamedInConnection() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("Connection", "keep-alive, X-Secret-Hop")
                .add("Connection", "Other")
                .add("X-Secret-Hop", "1")
                .add("Other", "2")
                .add("Keep-Alive", "timeout=5")
                .add("Proxy-Connection", "keep-alive")
                .add("Proxy-Authorization", "Basic abc")
                .add("Proxy-Authenticate", "Basic")
                .add("Upgrade", "websocket")
                .add("Trailer", "x-checksum")
                .add("TE", "gzip")
                .add("x-http2-stream-id", "3")
                .add("x-http2-scheme", "http")
                .add("Content-Type", "text/plain")
                .add("Authorization", "Bearer t");
        HeaderHygiene.stripHopByHop(h);
        assertThat(h.names()).containsExactlyInAnyOrder("Content-Type", "Authorization");
    }

    @Test
    void connectionTokensAreTrimmedAndCaseInsensitive() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("Connection", "X-A ,\tx-b,,CLOSE ,x-b")
                .add("x-a", "1")
                .add("X-B", "2")
                .add("X-C", "3");
        HeaderHygiene.stripHopByHop(h);
        assertThat(h.names()).containsExactly("X-C");
    }

    @Test
    void teTokensWithParametersAndCase() {
        assertThat(HeaderHygiene.containsToken("gzip;q=1, TRAILERS ;q=0.5", "trailers")).isTrue();
        assertThat(HeaderHygiene.containsToken("gzip, trailer", "trailers")).isFalse();
        assertThat(HeaderHygiene.containsToken("", "trailers")).isFalse();
    }

    @Test
    void keepsTeTrailersForGrpc() {
        HttpHeaders h = new DefaultHttpHeaders().add("te", "trailers, deflate;q=0.5");
        HeaderHygiene.stripHopByHop(h);
        assertThat(h.get("te")).isEqualTo("trailers");
    }

    @Test
    void connectionCannotRemoveFraming() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("Connection", "content-length, transfer-encoding, host")
                .add("Content-Length", "5")
                .add("Host", "orders");
        HeaderHygiene.stripHopByHop(h);
        assertThat(h.get("Content-Length")).isEqualTo("5");
        assertThat(h.get("Host")).isEqualTo("orders");
        assertThat(h.contains("Connection")).isFalse();
    }

    @Test
    void addsForwardingHeadersWhenAbsent() {
        HttpHeaders h = new DefaultHttpHeaders();
        String id = HeaderHygiene.addForwardingHeaders(h, "10.0.0.7", "http");
        assertThat(h.get("x-forwarded-for")).isEqualTo("10.0.0.7");
        assertThat(h.get("x-forwarded-proto")).isEqualTo("http");
        assertThat(h.get("x-request-id")).isEqualTo(id)
                .matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    }

    @Test
    void appendsToForwardedForKeepsTheRequestIdAndSetsTheProtoFromTheListener() {
        DefaultHttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        request.headers().add("X-Forwarded-For", "192.0.2.1").add("X-Forwarded-Proto", "https")
                .add("X-Request-Id", "abc-123");
        HeaderHygiene.cleanRequestHead(request); // on arrival, before anything of the sidecar's is added
        String id = HeaderHygiene.addForwardingHeaders(request.headers(), "127.0.0.1", "http");
        assertThat(request.headers().get("x-forwarded-for")).isEqualTo("192.0.2.1, 127.0.0.1");
        assertThat(request.headers().get("x-forwarded-proto")).as("the real connection's protocol, not the caller's"
                + " word").isEqualTo("http");
        assertThat(id).isEqualTo("abc-123");
    }

    @Test
    void aProtoTheSidecarSetForThisConnectionIsKept() {
        // a plaintext connection on a listener with TLS (PERMISSIVE): set after hygiene, kept by forwarding
        HttpHeaders h = new DefaultHttpHeaders().add("X-Forwarded-Proto", "http");
        HeaderHygiene.addForwardingHeaders(h, "127.0.0.1", "https");
        assertThat(h.get("x-forwarded-proto")).isEqualTo("http");
    }

    @Test
    void aCallersRequestHeadLosesHopByHopAndSidecarOwnedFieldsButKeepsItsKeepAliveWish() {
        HttpRequest close = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        close.headers().add("Connection", "close, X-Forwarded-Client-Cert, x-jwt-sub")
                .add("X-Forwarded-Client-Cert", "By=spiffe://forged").add("X-Forwarded-Proto", "https")
                .add("x-jwt-sub", "admin").add("Accept", "*/*");
        HeaderHygiene.cleanRequestHead(close);
        assertThat(close.headers().names()).containsExactlyInAnyOrder("Accept", "connection");
        assertThat(close.headers().get("connection")).isEqualTo("close");

        HttpRequest keepAlive10 = new DefaultHttpRequest(HttpVersion.HTTP_1_0, HttpMethod.GET, "/");
        keepAlive10.headers().add("Connection", "keep-alive, X-Other").add("X-Other", "1");
        HeaderHygiene.cleanRequestHead(keepAlive10);
        assertThat(HttpUtil.isKeepAlive(keepAlive10)).isTrue();
        assertThat(keepAlive10.headers().contains("X-Other")).isFalse();

        HttpRequest plain = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        plain.headers().add("Connection", "keep-alive");
        HeaderHygiene.cleanRequestHead(plain);
        assertThat(plain.headers().isEmpty()).as("HTTP/1.1 keeps alive without saying so").isTrue();
    }

    @Test
    void trailersLoseWhatMustNotTravelThereAndKeepGrpcStatus() {
        HttpHeaders t = new DefaultHttpHeaders()
                .add("X-Forwarded-Client-Cert", "By=forged").add("X-Forwarded-Proto", "https")
                .add("X-Forwarded-For", "192.0.2.1").add("x-request-id", "forged")
                .add("Host", "admin.internal").add("Content-Length", "0").add("Transfer-Encoding", "chunked")
                .add("Authorization", "Bearer t").add("Cookie", "s=1").add("Set-Cookie", "s=1")
                .add("Content-Type", "text/html").add("Content-Encoding", "gzip").add("Cache-Control", "no-store")
                .add("Expect", "100-continue").add("Range", "bytes=0-1").add("Max-Forwards", "1")
                .add("Connection", "x-custom").add("x-custom", "1").add("Keep-Alive", "1").add("TE", "trailers")
                .add("Trailer", "x").add("Upgrade", "h2c").add("Location", "/x").add("Retry-After", "1")
                .add("grpc-status", "0").add("grpc-message", "ok").add("grpc-status-details-bin", "AA")
                .add("x-checksum", "abc");
        HeaderHygiene.cleanTrailers(t);
        assertThat(t.names()).containsExactlyInAnyOrder("grpc-status", "grpc-message", "grpc-status-details-bin",
                "x-checksum");
    }

    @Test
    void requestIdsDiffer() {
        assertThat(RequestIds.next()).isNotEqualTo(RequestIds.next());
    }
}
