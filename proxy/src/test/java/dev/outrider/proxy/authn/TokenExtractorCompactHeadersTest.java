package dev.outrider.proxy.authn;

import dev.outrider.proxy.http.CompactHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;

/**
 * Every {@link TokenExtractorTest} case again on a request whose headers are the HTTP/1.1 decoder's map
 * ({@link CompactHttpHeaders}), where the extractor counts a header's values in place instead of listing them.
 */
class TokenExtractorCompactHeadersTest extends TokenExtractorTest {
    @Override
    HttpRequest request(String uri) {
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri, new CompactHttpHeaders(1));
    }
}
