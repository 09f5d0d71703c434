package dev.outrider.proxy.http;

import dev.outrider.proxy.config.HttpConfig;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HTTP/1.1 decoder ({@link Http1ServerCodec}) hands out one shared name object per common header field
 * instead of a new one per request, and keeps every name's bytes exactly as received (the case included).
 */
class DecodedHeaderNamesTest {
    private static final HttpConfig CONFIG = new HttpConfig(1024, 4096, 50, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(10));

    @Test
    void commonNamesAreSharedAcrossRequestsAndKeepTheirCase() {
        String head = "GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: t/1\r\nx-request-id: r1\r\nAuthorization: Bearer t\r\n"
                + "X-Request-ID: r2\r\nX-Custom-Thing: v\r\n\r\n";
        List<Map.Entry<CharSequence, CharSequence>> first = decode(head);
        List<Map.Entry<CharSequence, CharSequence>> second = decode(head);

        assertThat(first).extracting(e -> e.getKey().toString()).containsExactly("Host", "User-Agent",
                "x-request-id", "Authorization", "X-Request-ID", "X-Custom-Thing");
        for (int i = 0; i < 5; i++) {
            assertThat(second.get(i).getKey()).as(first.get(i).getKey().toString()).isSameAs(first.get(i).getKey());
        }
        assertThat(second.get(5).getKey()).isNotSameAs(first.get(5).getKey()).isEqualTo(first.get(5).getKey());
        assertThat(first.get(2).getKey()).isSameAs(HeaderHygiene.X_REQUEST_ID);
        assertThat(first.get(3).getKey()).hasToString("Authorization");
    }

    @Test
    void aNameThatDiffersOnlyInCaseFromASharedOneIsNotReplacedByIt() {
        List<Map.Entry<CharSequence, CharSequence>> h = decode("GET /a HTTP/1.1\r\nHost: x\r\nuSER-aGENT: t/1\r\n\r\n");
        assertThat(h.get(1).getKey().toString()).isEqualTo("uSER-aGENT");
    }

    @Test
    void capitalizedFormsAreBuiltFromTheLowerCaseNames() {
        assertThat(DecodedHeaderNames.capitalized("x-forwarded-client-cert")).isEqualTo("X-Forwarded-Client-Cert");
        assertThat(DecodedHeaderNames.capitalized("te")).isEqualTo("Te");
        byte[] line = "..User-Agent".getBytes(StandardCharsets.US_ASCII);
        assertThat((Object) DecodedHeaderNames.find(line, 2, 10)).hasToString("User-Agent");
        assertThat((Object) DecodedHeaderNames.find(line, 2, 9)).isNull();
        assertThat((Object) DecodedHeaderNames.find(new byte[300], 0, 300)).isNull();
    }

    private static List<Map.Entry<CharSequence, CharSequence>> decode(String head) {
        EmbeddedChannel ch = new EmbeddedChannel(new Http1ServerCodec(DownstreamHttp.decoderConfig(CONFIG)));
        try {
            ch.writeInbound(Unpooled.copiedBuffer(head, StandardCharsets.US_ASCII));
            HttpRequest request = ch.readInbound();
            assertThat(request.decoderResult().isSuccess()).isTrue();
            List<Map.Entry<CharSequence, CharSequence>> out = new ArrayList<>();
            request.headers().iteratorCharSequence().forEachRemaining(out::add);
            Object rest;
            while ((rest = ch.readInbound()) != null) {
                ReferenceCountUtil.release(rest);
            }
            return out;
        } finally {
            ch.finishAndReleaseAll();
        }
    }
}
