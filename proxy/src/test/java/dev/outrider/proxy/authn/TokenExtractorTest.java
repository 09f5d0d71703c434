package dev.outrider.proxy.authn;

import dev.outrider.core.policy.RequestAuthentication.JwtHeader;
import dev.outrider.core.policy.RequestAuthentication.JwtRule;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TokenExtractorTest {
    /** A request with Netty's default header map; {@link TokenExtractorCompactHeadersTest} uses the decoder's. */
    HttpRequest request(String uri) {
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
    }

    private static JwtRule rule(List<JwtHeader> headers, List<String> params, boolean forward) {
        return new JwtRule("https://issuer.test", null, null, "{}", headers, params, forward, null);
    }

    @Test
    void defaultIsAuthorizationBearerThenAccessToken() {
        TokenExtractor extractor = TokenExtractor.forRule(rule(null, null, false));
        HttpRequest req = request("/a?x=1");
        req.headers().set("Authorization", "Bearer abc.def.ghi");
        assertThat(extractor.extract(req).value()).isEqualTo("abc.def.ghi");
        req.headers().set("Authorization", "bearer abc.def.ghi");
        assertThat(extractor.extract(req).value()).isEqualTo("abc.def.ghi");
        req.headers().set("Authorization", "Basic dXNlcjpwYXNz");
        assertThat(extractor.extract(req)).isNull();
        req.headers().set("Authorization", "Bearer ");
        assertThat(extractor.extract(req)).isNull();
        HttpRequest q = request("/a?access_token=t.o.k&x=1");
        assertThat(extractor.extract(q).value()).isEqualTo("t.o.k");
        assertThat(extractor.extract(request("/a"))).isNull();
    }

    /** The token found is a view of the header value (no copy until a String is asked for), read as its text. */
    @Test
    void theTokenIsReadInPlaceAndCopiedOnlyOnRequest() {
        TokenExtractor extractor = TokenExtractor.forRule(rule(null, null, false));
        HttpRequest req = request("/");
        req.headers().add("Authorization", "Bearer  a.b.c ");
        TokenExtractor.Token token = extractor.extract(req);
        assertThat(token.length()).isEqualTo(5);
        assertThat(token.charAt(0)).isEqualTo('a');
        assertThat(token.charAt(4)).isEqualTo('c');
        assertThat(CharSequence.compare(token, "a.b.c")).isZero();
        assertThat(token.subSequence(2, 5)).hasToString("b.c");
        assertThat(token.value()).isEqualTo("a.b.c").isSameAs(token.value()).isSameAs(token.toString());
        assertThat(token.headerName()).isEqualTo("authorization");
        assertThat(token.paramName()).isNull();
        assertThat(extractor.carriesOther(req, token)).isFalse();
        req.headers().add("Authorization", "Bearer a.b.c.");
        assertThat(extractor.carriesOther(req, token)).isTrue();
    }

    /** The token is compared in place with the one found: white space around it and the scheme's case do not matter. */
    @Test
    void anotherValueWithTheSameTokenIsNotAnotherTokenAndIsStrippedToo() {
        TokenExtractor extractor = TokenExtractor.forRule(rule(null, null, false));
        HttpRequest req = request("/");
        req.headers().add("Authorization", "Bearer   a.b.c  ");
        req.headers().add("Authorization", "bearer a.b.c");
        TokenExtractor.Token token = extractor.extract(req);
        assertThat(token.value()).isEqualTo("a.b.c");
        assertThat(extractor.carriesOther(req, token.value())).isFalse();
        req.headers().add("Authorization", "Bearer a.b.cd");
        assertThat(extractor.carriesOther(req, token.value())).isTrue();
        req.headers().add("Authorization", "Basic dXNlcjpwYXNz");
        extractor.strip(req, token);
        assertThat(req.headers().getAll("Authorization")).containsExactly("Bearer a.b.cd", "Basic dXNlcjpwYXNz");
    }

    @Test
    void configuredHeaderWithPrefix() {
        TokenExtractor extractor = TokenExtractor.forRule(rule(List.of(new JwtHeader("x-jwt", "Token ")), null, false));
        HttpRequest req = request("/");
        req.headers().set("Authorization", "Bearer ignored");
        assertThat(extractor.extract(req)).isNull();
        req.headers().set("X-JWT", "Token a.b.c");
        TokenExtractor.Token token = extractor.extract(req);
        assertThat(token.value()).isEqualTo("a.b.c");
        extractor.strip(req, token);
        assertThat(req.headers().contains("x-jwt")).isFalse();
        assertThat(req.headers().get("Authorization")).isEqualTo("Bearer ignored");
    }

    @Test
    void headerWithoutPrefix() {
        TokenExtractor extractor = TokenExtractor.forRule(rule(List.of(new JwtHeader("x-jwt", null)), null, false));
        HttpRequest req = request("/");
        req.headers().set("x-jwt", "a.b.c");
        assertThat(extractor.extract(req).value()).isEqualTo("a.b.c");
    }

    @Test
    void queryParameterIsExtractedAndStrippedKeepingOthersAsSent() {
        TokenExtractor extractor = TokenExtractor.forRule(rule(null, List.of("jwt"), false));
        HttpRequest req = request("/p/q?a=1%202&jwt=a.b.c&b=%7E&jwt=x.y.z#frag");
        TokenExtractor.Token token = extractor.extract(req);
        assertThat(token.value()).isEqualTo("a.b.c");
        assertThat(token.paramName()).isEqualTo("jwt");
        extractor.strip(req, token);
        assertThat(req.uri()).isEqualTo("/p/q?a=1%202&b=%7E#frag");
        HttpRequest only = request("/p?jwt=a.b.c");
        extractor.strip(only, extractor.extract(only));
        assertThat(only.uri()).isEqualTo("/p");
    }

    @Test
    void bearerIsStrippedByDefault() {
        TokenExtractor extractor = TokenExtractor.forRule(rule(null, null, false));
        HttpRequest req = request("/");
        req.headers().set("Authorization", "Bearer a.b.c");
        extractor.strip(req, extractor.extract(req));
        assertThat(req.headers().contains("Authorization")).isFalse();
    }

    @Test
    void forwardOriginalTokenKeepsIt() {
        TokenExtractor extractor = TokenExtractor.forRule(rule(null, List.of("jwt"), true));
        HttpRequest req = request("/?jwt=a.b.c");
        extractor.strip(req, extractor.extract(req));
        assertThat(req.uri()).isEqualTo("/?jwt=a.b.c");
        TokenExtractor headers = TokenExtractor.forRule(rule(null, null, true));
        HttpRequest h = request("/");
        h.headers().set("Authorization", "Bearer a.b.c");
        headers.strip(h, headers.extract(h));
        assertThat(h.headers().get("Authorization")).isEqualTo("Bearer a.b.c");
    }

    @Test
    void anotherTokenInTheRulesPlacesIsReported() {
        TokenExtractor extractor = TokenExtractor.forRule(rule(null, null, false));
        HttpRequest req = request("/a?access_token=a.b.c");
        req.headers().add("Authorization", "Bearer a.b.c").add("Authorization", "Basic dXNlcjpwYXNz");
        assertThat(extractor.carriesOther(req, "a.b.c")).isFalse();
        req.headers().add("Authorization", "Bearer x.y.z");
        assertThat(extractor.carriesOther(req, "a.b.c")).isTrue();
        HttpRequest param = request("/a?access_token=x.y.z&access_token=");
        param.headers().set("Authorization", "Bearer a.b.c");
        assertThat(extractor.carriesOther(param, "a.b.c")).isTrue();
        assertThat(extractor.carriesOther(request("/a?access_token="), "a.b.c")).isFalse();
    }

    @Test
    void removeTakesTheTokenFromEveryPlaceOfTheRule() {
        TokenExtractor extractor = TokenExtractor.forRule(rule(null, null, true));
        HttpRequest req = request("/a?x=1&access_token=a.b.c");
        req.headers().add("Authorization", "Bearer a.b.c").add("Authorization", "Basic dXNlcjpwYXNz");
        extractor.remove(req, "a.b.c");
        assertThat(req.headers().getAll("Authorization")).containsExactly("Basic dXNlcjpwYXNz");
        assertThat(req.uri()).isEqualTo("/a?x=1");
    }
}
