package dev.outrider.proxy.http;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
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
    void appendsToForwardedForAndKeepsCallerValues() {
        HttpHeaders h = new DefaultHttpHeaders()
                .add("X-Forwarded-For", "192.0.2.1")
                .add("X-Forwarded-Proto", "https")
                .add("X-Request-Id", "abc-123");
        String id = HeaderHygiene.addForwardingHeaders(h, "127.0.0.1", "http");
        assertThat(h.get("x-forwarded-for")).isEqualTo("192.0.2.1, 127.0.0.1");
        assertThat(h.get("x-forwarded-proto")).isEqualTo("https");
        assertThat(id).isEqualTo("abc-123");
    }

    @Test
    void requestIdsDiffer() {
        assertThat(RequestIds.next()).isNotEqualTo(RequestIds.next());
    }
}
