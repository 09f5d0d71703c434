package dev.outrider.controlplane.server;

import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A request copied out of its Netty buffers on the event loop, so the {@link FullHttpRequest} is released at
 * once and nothing reference-counted outlives the read. The path is split on '/' before percent-decoding
 * (an encoded '/' stays inside its segment), with Netty's {@link QueryStringDecoder}.
 *
 * @param segments      decoded path segments, without the empty one before the leading '/'
 * @param authorization the {@code Authorization} header or null; a secret, never logged
 * @param failure       why the request could not be decoded, as the refusal to answer with, or null
 */
record Incoming(HttpMethod method, String path, List<String> segments, Map<String, List<String>> query,
                String authorization, String contentType, byte[] body, boolean keepAlive, boolean http10,
                ApiException failure) {

    /** Copies what the API needs; does not release {@code request}. */
    static Incoming of(FullHttpRequest request) {
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        boolean http10 = request.protocolVersion().equals(HttpVersion.HTTP_1_0);
        if (request.decoderResult().isFailure()) {
            return new Incoming(request.method(), "", List.of(), Map.of(), null, null, new byte[0], false, http10,
                    undecodable(request.decoderResult().cause()));
        }
        QueryStringDecoder decoder;
        List<String> segments = new ArrayList<>();
        try {
            decoder = new QueryStringDecoder(request.uri());
            String raw = decoder.rawPath();
            if (!raw.startsWith("/")) {
                throw new IllegalArgumentException("request target must start with '/'");
            }
            for (String segment : raw.substring(1).split("/", -1)) {
                segments.add(QueryStringDecoder.decodeComponent(segment));
            }
            decoder.parameters(); // decodes now, so a bad escape fails here rather than in a handler
        } catch (IllegalArgumentException e) {
            return new Incoming(request.method(), "", List.of(), Map.of(), null, null, new byte[0], keepAlive,
                    http10, ApiException.invalid("malformed request target: " + e.getMessage()));
        }
        return new Incoming(request.method(), decoder.path(), List.copyOf(segments), decoder.parameters(),
                request.headers().get(HttpHeaderNames.AUTHORIZATION),
                request.headers().get(HttpHeaderNames.CONTENT_TYPE),
                ByteBufUtil.getBytes(request.content()), keepAlive, http10, null);
    }

    /**
     * The answer to a request the codec could not decode: 431 when its header block is over the limit (RFC 6585
     * §5), 414 when its request line is (RFC 9110 §15.5.15: in practice a long target), 400 otherwise.
     */
    static ApiException undecodable(Throwable cause) {
        return switch (cause) {
            case TooLongHttpHeaderException e -> ApiException.headersTooLarge("request headers are larger than "
                    + ApiChannelInitializer.MAX_HEADER_BYTES + " bytes");
            case TooLongHttpLineException e -> ApiException.uriTooLong("request line is longer than "
                    + ApiChannelInitializer.MAX_INITIAL_LINE_BYTES + " bytes");
            case null -> ApiException.invalid("malformed HTTP request");
            default -> ApiException.invalid("malformed HTTP request: " + cause.getMessage());
        };
    }

    @Override
    public String toString() {
        return "Incoming[" + method + " " + path + "]"; // no query, no headers: they may hold secrets
    }
}
