package dev.outrider.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shared, immutable names for the header fields requests carry most, so the HTTP/1.1 decoder
 * ({@link Http1ServerCodec}) hands out one of these instead of a new {@link AsciiString} (and its byte array)
 * per field of every request. A name is shared only when its bytes are exactly the received ones, case
 * included: what is forwarded is what arrived. Each name is here in lower case (HTTP/2's form, and many
 * clients') and in the capitalized form most HTTP/1.1 clients send ({@code User-Agent}); without this table
 * Netty's decoder shares only the capitalized {@code Host}, {@code Accept}, {@code Connection},
 * {@code Content-Type} and {@code Content-Length}. Any other name is decoded as before.
 *
 * <p>Threading: immutable after class initialization; read from any event loop.
 */
final class DecodedHeaderNames {
    /** Lower-case names; each is also shared in the capitalized form ({@code x-request-id} → {@code X-Request-Id}). */
    private static final AsciiString[] NAMES = {
            HttpHeaderNames.HOST, HttpHeaderNames.ACCEPT, HttpHeaderNames.CONNECTION, HttpHeaderNames.CONTENT_TYPE,
            HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.USER_AGENT, HttpHeaderNames.AUTHORIZATION,
            HttpHeaderNames.ACCEPT_ENCODING, HttpHeaderNames.ACCEPT_LANGUAGE, HttpHeaderNames.COOKIE,
            HttpHeaderNames.CACHE_CONTROL, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.TE,
            HttpHeaderNames.EXPECT, HttpHeaderNames.ORIGIN, HttpHeaderNames.REFERER, HttpHeaderNames.IF_NONE_MATCH,
            HttpHeaderNames.IF_MODIFIED_SINCE, HeaderHygiene.X_REQUEST_ID, HeaderHygiene.X_FORWARDED_FOR,
            HeaderHygiene.X_FORWARDED_PROTO, HeaderHygiene.X_FORWARDED_CLIENT_CERT,
            AsciiString.cached("traceparent"), AsciiString.cached("tracestate"), AsciiString.cached("grpc-timeout"),
    };
    /** Other spellings in use. */
    private static final AsciiString[] VARIANTS = {AsciiString.cached("X-Request-ID"), AsciiString.cached("TE")};
    /** The shared names by length. */
    private static final AsciiString[][] BY_LENGTH = byLength();

    private DecodedHeaderNames() {
    }

    /** The shared name whose bytes are exactly {@code bytes[start, start + length)}, or null. */
    static AsciiString find(byte[] bytes, int start, int length) {
        if (length >= BY_LENGTH.length) {
            return null;
        }
        for (AsciiString name : BY_LENGTH[length]) {
            int from = name.arrayOffset();
            if (Arrays.equals(bytes, start, start + length, name.array(), from, from + length)) {
                return name;
            }
        }
        return null;
    }

    private static AsciiString[][] byLength() {
        List<AsciiString> all = new ArrayList<>();
        for (AsciiString name : NAMES) {
            all.add(name);
            all.add(AsciiString.cached(capitalized(name.toString())));
        }
        all.addAll(List.of(VARIANTS));
        int max = all.stream().mapToInt(AsciiString::length).max().orElse(0);
        AsciiString[][] table = new AsciiString[max + 1][];
        for (int n = 0; n <= max; n++) {
            int length = n;
            table[n] = all.stream().filter(a -> a.length() == length).distinct().toArray(AsciiString[]::new);
        }
        return table;
    }

    /** {@code x-request-id} → {@code X-Request-Id}. */
    static String capitalized(String lower) {
        char[] c = lower.toCharArray();
        for (int i = 0; i < c.length; i++) {
            if (i == 0 || c[i - 1] == '-') {
                c[i] = Character.toUpperCase(c[i]);
            }
        }
        return new String(c);
    }
}
