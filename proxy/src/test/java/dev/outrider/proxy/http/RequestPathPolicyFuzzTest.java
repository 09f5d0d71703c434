package dev.outrider.proxy.http;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.outrider.proxy.config.EscapedSlashes;
import dev.outrider.proxy.http.RequestPathPolicy.Ok;
import dev.outrider.proxy.config.PathParameters;
import dev.outrider.proxy.http.RequestPathPolicy.Rejected;
import dev.outrider.proxy.http.RequestPathPolicy.Result;
import dev.outrider.proxy.http.RequestPathPolicy.Rules;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Properties of {@link RequestPathPolicy#normalizeForAuthorization} under every {@link Rules} combination, and of
 * {@link PathNormalizationHandler} forwarding exactly what was matched. The input is a request target, one
 * character per byte (ISO-8859-1, so non-ASCII and control characters are reachable).
 *
 * <p>Regression inputs: {@code src/test/resources/dev/outrider/proxy/http/RequestPathPolicyFuzzTestInputs/}
 * (replayed by every build); fuzzing: docs/fuzzing.md.
 */
class RequestPathPolicyFuzzTest {
    private static final List<Rules> ALL_RULES = allRules();

    @FuzzTest
    void normalizedPathsAreCanonical(byte[] input) {
        String target = new String(input, StandardCharsets.ISO_8859_1);
        boolean canonical = RequestPathPolicy.isCanonicalOriginForm(target);
        for (Rules rules : ALL_RULES) {
            Result result = RequestPathPolicy.normalizeForAuthorization(target, rules);
            if (canonical) {
                check(result instanceof Ok ok && ok.target().equals(target), target, rules,
                        "isCanonicalOriginForm, yet normalization changed or refused it: " + result);
            }
            if (result instanceof Ok ok) {
                checkAccepted(target, rules, ok);
            }
            checkMonotonic(target, rules, result);
            checkHandlerForwards(target, rules, result);
        }
    }

    /** Everything an accepted path must be, whatever the input was. */
    private static void checkAccepted(String target, Rules rules, Ok ok) {
        String path = ok.path();
        check(path.startsWith("/"), target, rules, "path does not start with '/': " + path);
        check(!path.contains("//"), target, rules, "empty segment: " + path);
        check(path.indexOf(';') < 0, target, rules, "';' in the path: " + path);
        check(path.indexOf('\\') < 0, target, rules, "raw backslash in the path: " + path);
        String upper = path.toUpperCase(Locale.ROOT);
        check(!upper.contains("%3B"), target, rules, "encoded ';' in the path: " + path);
        if (rules.escapedSlashes() != EscapedSlashes.KEEP) {
            check(!upper.contains("%2F") && !upper.contains("%5C"), target, rules,
                    "encoded slash or backslash in the path: " + path);
        }
        String[] segments = path.split("/", -1);
        for (String segment : segments) {
            check(!segment.equals(".") && !segment.equals(".."), target, rules, "dot segment: " + path);
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            check(c > 0x20 && c < 0x7F && c != '#' && c != '?', target, rules,
                    "character " + (int) c + " in the path: " + path);
            if (c == '%') {
                check(i + 2 < path.length() && isUpperHex(path.charAt(i + 1)) && isUpperHex(path.charAt(i + 2)),
                        target, rules, "percent-encoding not canonical: " + path);
                char decoded = (char) Integer.parseInt(path.substring(i + 1, i + 3), 16);
                check(!PathNormalizer.isUnreserved(decoded), target, rules,
                        "encoded unreserved character left in the path: " + path);
            }
        }
        check(RequestPathPolicy.normalizeForAuthorization(ok.target(), rules).equals(ok), target, rules,
                "not idempotent: " + ok + " normalizes to "
                        + RequestPathPolicy.normalizeForAuthorization(ok.target(), rules));
        check(PathNormalizer.normalize(ok.target()).equals(path), target, rules,
                "the lenient PathNormalizer (access log) reads " + ok.target() + " as "
                        + PathNormalizer.normalize(ok.target()) + ", not " + path);
        if (target.startsWith("/")) {
            int q = target.indexOf('?');
            check(q < 0 ? ok.query() == null : target.substring(q + 1).equals(ok.query()), target, rules,
                    "query not kept as received: " + ok.query());
        }
    }

    /**
     * The lenient modes only accept more: what REJECT (either rule) accepts, the other modes accept with the same
     * result, since they differ only on the characters REJECT refuses.
     */
    private static void checkMonotonic(String target, Rules rules, Result result) {
        if (!(result instanceof Ok)) {
            return;
        }
        if (rules.pathParameters() == PathParameters.REJECT) {
            Rules strip = new Rules(rules.escapedSlashes(), PathParameters.STRIP);
            check(RequestPathPolicy.normalizeForAuthorization(target, strip).equals(result), target, rules,
                    "STRIP disagrees on a path without parameters");
        }
        if (rules.escapedSlashes() == EscapedSlashes.REJECT) {
            for (EscapedSlashes other : List.of(EscapedSlashes.DECODE, EscapedSlashes.KEEP)) {
                Rules lenient = new Rules(other, rules.pathParameters());
                check(RequestPathPolicy.normalizeForAuthorization(target, lenient).equals(result), target, rules,
                        other + " disagrees on a path without escaped slashes");
            }
        }
    }

    /** The handler forwards exactly {@code Ok.target()} (the matched path), or refuses with 400 and closes. */
    private static void checkHandlerForwards(String target, Rules rules, Result result) {
        HttpRequest request;
        try {
            request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, target);
        } catch (IllegalArgumentException e) {
            return; // Netty refuses to build this request line: no decoder hands such a target on
        }
        request.headers().set(HttpHeaderNames.HOST, "app.test");
        EmbeddedChannel ch = new EmbeddedChannel(new PathNormalizationHandler(rules));
        try {
            ch.writeInbound(request);
            Object forwarded = ch.readInbound();
            Object response = ch.readOutbound();
            try {
                if (result instanceof Ok ok) {
                    check(forwarded instanceof HttpRequest r && r.uri().equals(ok.target()), target, rules,
                            "handler forwarded " + forwarded + " instead of " + ok.target());
                    String authority = RequestPathPolicy.authorityOf(target);
                    check(authority == null || authority.equals(((HttpRequest) forwarded).headers()
                            .get(HttpHeaderNames.HOST)), target, rules, "Host not taken from the absolute form");
                    check(response == null, target, rules, "a response for an accepted target: " + response);
                } else {
                    check(forwarded == null, target, rules, "a refused target was forwarded: " + forwarded);
                    check(response instanceof FullHttpResponse r && r.status().equals(HttpResponseStatus.BAD_REQUEST)
                                    && r.content().toString(StandardCharsets.UTF_8)
                                    .contains(((Rejected) result).reason()),
                            target, rules, "refusal is not a 400 naming the rule: " + response);
                    check(!ch.isOpen(), target, rules, "connection still open after a refusal");
                }
            } finally {
                ReferenceCountUtil.release(forwarded);
                ReferenceCountUtil.release(response);
            }
            ch.checkException();
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    private static boolean isUpperHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
    }

    private static void check(boolean property, String target, Rules rules, String what) {
        if (!property) {
            throw new AssertionError(what + " (target " + printable(target) + ", rules " + rules + ")");
        }
    }

    /** The target with anything outside printable ASCII escaped, for the failure message. */
    static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7F) {
                b.append(c);
            } else {
                b.append(String.format("\\x%02X", (int) c));
            }
        }
        return b.append('"').toString();
    }

    private static List<Rules> allRules() {
        List<Rules> all = new ArrayList<>();
        for (EscapedSlashes e : EscapedSlashes.values()) {
            for (PathParameters p : PathParameters.values()) {
                all.add(new Rules(e, p));
            }
        }
        return List.copyOf(all);
    }
}
