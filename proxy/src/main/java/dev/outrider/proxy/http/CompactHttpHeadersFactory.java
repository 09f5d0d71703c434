package dev.outrider.proxy.http;

import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;

/**
 * Makes {@link CompactHttpHeaders} for the HTTP/1.1 decoder ({@link Http1ServerCodec}): a request's map with room
 * for the fields its header block has (the decoder counts them and calls {@link #expectFields} before it decodes
 * the block) and for those the sidecar adds on the way ({@code X-Forwarded-For}, {@code X-Forwarded-Proto} and,
 * inbound, {@code X-Forwarded-Client-Cert}); an empty map with room for two. Validation is always on: this
 * factory replaces {@link DefaultHttpHeadersFactory#headersFactory()} and validates as the maps it makes.
 *
 * <p>Threading: one per connection, like its decoder (the count is per connection state); event loop only.
 */
public final class CompactHttpHeadersFactory implements HttpHeadersFactory {
    /** Fields the sidecar may add to a request before forwarding it. */
    static final int ADDED = 3;
    private static final int DEFAULT_FIELDS = 8;
    private int expected = DEFAULT_FIELDS;

    /** The next request's header block has {@code fields} fields (its line count). */
    void expectFields(int fields) {
        expected = fields;
    }

    @Override
    public HttpHeaders newHeaders() {
        int n = expected;
        expected = DEFAULT_FIELDS;
        return new CompactHttpHeaders(n + ADDED);
    }

    @Override
    public HttpHeaders newEmptyHeaders() {
        return new CompactHttpHeaders(2);
    }
}
