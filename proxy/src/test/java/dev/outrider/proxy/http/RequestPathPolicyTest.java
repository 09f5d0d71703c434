package dev.outrider.proxy.http;

import dev.outrider.proxy.config.EscapedSlashes;
import dev.outrider.proxy.http.RequestPathPolicy.Ok;
import dev.outrider.proxy.http.RequestPathPolicy.Rejected;
import dev.outrider.proxy.config.PathParameters;
import dev.outrider.proxy.http.RequestPathPolicy.Result;
import dev.outrider.proxy.http.RequestPathPolicy.Rules;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.outrider.proxy.config.EscapedSlashes.DECODE;
import static dev.outrider.proxy.config.EscapedSlashes.KEEP;
import static dev.outrider.proxy.config.EscapedSlashes.REJECT;
import static org.assertj.core.api.Assertions.assertThat;

class RequestPathPolicyTest {

    /** {@code mode} for escaped slashes, path parameters rejected (the default). */
    private static Rules rules(EscapedSlashes mode) {
        return new Rules(mode, PathParameters.REJECT);
    }

    private static Result normalizeForAuthorization(String target, EscapedSlashes mode) {
        return RequestPathPolicy.normalizeForAuthorization(target, rules(mode));
    }

    private static String path(String target, EscapedSlashes mode) {
        Result result = normalizeForAuthorization(target, mode);
        assertThat(result).as(target).isInstanceOf(Ok.class);
        return ((Ok) result).path();
    }

    private static String rejection(String target, EscapedSlashes mode) {
        Result result = normalizeForAuthorization(target, mode);
        assertThat(result).as(target).isInstanceOf(Rejected.class);
        return ((Rejected) result).reason();
    }

    // --- the published bypasses -------------------------------------------------------------------------

    /** CVE-2019-9901: a policy allowing /public/* must not let /public/../admin reach /admin. */
    @ParameterizedTest
    @EnumSource(EscapedSlashes.class)
    void cve_2019_9901_dotSegmentsAreRemovedBeforeMatching(EscapedSlashes mode) {
        assertThat(path("/public/../admin", mode)).isEqualTo("/admin");
        assertThat(path("/public/./../admin", mode)).isEqualTo("/admin");
        assertThat(path("/public/%2e%2e/admin", mode)).isEqualTo("/admin");
    }

    /** CVE-2021-31920: escaped slashes (%2F, %5C) in the path. */
    @Test
    void cve_2021_31920_escapedSlashesAreRejectedByDefault() {
        for (String target : new String[] {"/public%2F..%2Fadmin", "/public%2f..%2fadmin",
                "/public%5C..%5Cadmin", "/public%5c..%5cadmin", "/a%2Fb"}) {
            assertThat(rejection(target, REJECT)).isEqualTo("encoded slash or backslash in path");
        }
    }

    @Test
    void cve_2021_31920_escapedSlashesDecodedThenNormalizedInDecodeMode() {
        assertThat(path("/public%2F..%2Fadmin", DECODE)).isEqualTo("/admin");
        assertThat(path("/public%2f..%2fadmin", DECODE)).isEqualTo("/admin");
        assertThat(path("/public%5C..%5Cadmin", DECODE)).isEqualTo("/admin");
        assertThat(path("/a%2F..%2Fadmin", DECODE)).isEqualTo("/admin");
        assertThat(path("/a%2F%2Fb", DECODE)).isEqualTo("/a/b");
    }

    @Test
    void cve_2021_31920_escapedSlashesStayOneSegmentInKeepMode() {
        assertThat(path("/public%2f..%2fadmin", KEEP)).isEqualTo("/public%2F..%2Fadmin");
        assertThat(path("/public%5c..%5cadmin", KEEP)).isEqualTo("/public%5C..%5Cadmin");
    }

    /** CVE-2021-39156: a fragment in the request target. */
    @ParameterizedTest
    @EnumSource(EscapedSlashes.class)
    void cve_2021_39156_fragmentsAreRejected(EscapedSlashes mode) {
        assertThat(rejection("/admin#public", mode)).isEqualTo("fragment in request target");
        assertThat(rejection("/public/#/../admin", mode)).isEqualTo("fragment in request target");
        assertThat(rejection("/p?x=1#f", mode)).isEqualTo("fragment in request target");
        assertThat(rejection("http://h/admin#public", mode)).isEqualTo("fragment in request target");
    }

    /** CVE-2021-39155: hosts compare case-insensitively. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            Admin.Example.com        | admin.example.com
            ADMIN.EXAMPLE.COM:8080   | admin.example.com:8080
            admin.example.com.       | admin.example.com
            Admin.Example.com.:443   | admin.example.com:443
            [::1]:15006              | [::1]:15006
            [FE80::1]                | [fe80::1]
            [FE80::1]:80             | [fe80::1]:80
            """)
    void cve_2021_39155_hostsAreLowerCasedWithoutTrailingDot(String host, String expected) {
        assertThat(Authority.normalizeHost(host)).isEqualTo(expected);
    }

    @Test
    void aNormalHostIsReturnedAsIs() {
        String host = "admin.example.com:8080";
        assertThat(Authority.normalizeHost(host)).isSameAs(host);
    }

    // --- the rules one by one -----------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            # target                    | path
            ""                          | /
            /                           | /
            /a/b/                       | /a/b/
            # merge slashes (Envoy merge_slashes)
            //admin                     | /admin
            /a///b//                    | /a/b/
            /a//../b                    | /b
            # dot segments (RFC 3986 §5.2.4), also encoded ones
            /./admin                    | /admin
            /%2e%2e/admin               | /admin
            /%2E%2e/admin               | /admin
            /.%2E/admin                 | /admin
            /a/b/../../admin            | /admin
            /../../admin                | /admin
            /a/..                       | /
            /a/.b/..c/...               | /a/.b/..c/...
            # unreserved decoded in either hex case, the rest upper-cased (RFC 3986 §6.2.2)
            /%61%44%6d%49%6E            | /aDmIn
            /%7euser                    | /~user
            /%c3%a9/%3f/%20             | /%C3%A9/%3F/%20
            /%252F                      | /%252F
            # absolute-form (RFC 9112 §3.2.2)
            http://example.com          | /
            HTTP://Example.com/a/../b   | /b
            https://example.com:8443/x  | /x
            http://example.com?x        | /
            """)
    void normalizes(String target, String expected) {
        for (EscapedSlashes mode : EscapedSlashes.values()) {
            assertThat(path(target, mode)).as(mode.name()).isEqualTo(expected);
        }
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            /a%00b                    | encoded control character in path
            /a%0d%0aX: y              | control character in request target
            /a%0D%0A                  | encoded control character in path
            /a%1f                     | encoded control character in path
            /a%7F                     | encoded control character in path
            /a%zz                     | invalid percent-encoding in path
            /a%4                      | invalid percent-encoding in path
            /a%                       | invalid percent-encoding in path
            /a%%41                    | invalid percent-encoding in path
            /a%g1                     | invalid percent-encoding in path
            /a\\b                      | backslash in path
            /public\\..\\admin          | backslash in path
            "/a b"                    | control character in request target
            /é                        | non-ASCII character in request target
            *                         | request target is not a path
            example.com:443           | request target is not a path
            ftp://example.com/a       | request target is not a path
            http:///admin             | request target is not a path
            a/b                       | request target is not a path
            http://user@example.com/a | userinfo in request target
            """)
    void rejects(String target, String reason) {
        for (EscapedSlashes mode : EscapedSlashes.values()) {
            assertThat(rejection(target, mode)).as(mode.name()).isEqualTo(reason);
        }
    }

    @Test
    void rawControlCharactersAreRejected() {
        for (char c : new char[] {0, 1, '\t', '\n', '\r', 0x1F, 0x7F}) {
            assertThat(rejection("/a" + c + "b", REJECT)).isEqualTo("control character in request target");
        }
    }

    // --- the query ----------------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1} ? {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', nullValues = "null", textBlock = """
            /p?x=%2F                       | /p  | x=%2F
            /p?x=%2f&y=/../..&z=%zz        | /p  | x=%2f&y=/../..&z=%zz
            /a/../p?x=\\                    | /p  | x=\\
            /p?                            | /p  | ""
            /p                             | /p  | null
            /?q                            | /   | q
            http://h:80/a/%2e%2e/p?x=%41   | /p  | x=%41
            http://h?q=1                   | /   | q=1
            """)
    void theQueryIsKeptRawAndSeparate(String target, String path, String query) {
        Ok ok = (Ok) normalizeForAuthorization(target, REJECT);
        assertThat(ok.path()).isEqualTo(path);
        assertThat(ok.query()).isEqualTo(query);
        assertThat(ok.target()).isEqualTo(query == null ? path : path + "?" + query);
    }

    // --- properties ---------------------------------------------------------------------------------------

    private static final String[] SAMPLES = {
            "/", "/a", "/a/b/", "/a?b", "/a?", "/a/./b", "/a/../b", "//a", "/a%41", "/a%2F..%2Fb", "/a%5cb",
            "/.%2e/x", "/a/b/../../../c?x=/../", "/%7E?%7E", "/a.b/c..d/.e", "/x;y=1/z", "/a@b:c/!$&'()*+,;=",
            "http://h/a/../b?q", "/p?x=%2F", "/a%c3%a9", "/..", "/.", "/a/.", "/a/..", "/%2E",
    };

    @Test
    void theResultIsCanonical() {
        for (Rules rules : allRules()) {
            for (String target : SAMPLES) {
                if (RequestPathPolicy.normalizeForAuthorization(target, rules) instanceof Ok ok) {
                    assertThat(RequestPathPolicy.normalizeForAuthorization(ok.target(), rules))
                            .as(rules + " " + target).isEqualTo(ok);
                    assertThat(PathNormalizer.normalize(ok.target())).as("the access log agrees")
                            .isEqualTo(ok.path());
                    assertThat(ok.path()).as("no path parameter is matched or forwarded").doesNotContain(";");
                }
            }
        }
    }

    private static java.util.List<Rules> allRules() {
        java.util.List<Rules> all = new java.util.ArrayList<>();
        for (EscapedSlashes slashes : EscapedSlashes.values()) {
            for (PathParameters parameters : PathParameters.values()) {
                all.add(new Rules(slashes, parameters));
            }
        }
        return all;
    }

    /** The handler's fast path must never let through a target that the full rules would change or refuse. */
    @Test
    void theFastPathAgreesWithTheRules() {
        int fast = 0;
        for (Rules rules : allRules()) {
            for (String target : SAMPLES) {
                if (RequestPathPolicy.isCanonicalOriginForm(target)) {
                    fast++;
                    assertThat(RequestPathPolicy.normalizeForAuthorization(target, rules)).isInstanceOfSatisfying(Ok.class,
                            ok -> assertThat(ok.target()).as(target).isEqualTo(target));
                }
            }
        }
        assertThat(fast).as("some samples take the fast path").isGreaterThan(10);
    }

    // --- path parameters (istio#27409 class: Tomcat, Jetty and Spring cut ;params off every segment) ------

    /** By default a ';' in the path is refused, whatever escaped-slash mode is in force. */
    @ParameterizedTest
    @EnumSource(EscapedSlashes.class)
    void pathParametersAreRejectedByDefault(EscapedSlashes mode) {
        for (String target : new String[] {"/admin;jsessionid=1", "/admin;x", "/public/..;v=1/admin", "/a;/b",
                "/;/admin", "/public/..;/admin", "http://h/admin;x", "/admin;x?q=1"}) {
            assertThat(rejection(target, mode)).as(target).isEqualTo("path parameter (;) in path");
        }
    }

    /** An encoded ';' is refused in every mode: applications disagree on whether it delimits a parameter. */
    @Test
    void encodedSemicolonsAreRejectedInEveryMode() {
        for (Rules rules : allRules()) {
            for (String target : new String[] {"/admin%3Bx", "/admin%3bx", "/public/..%3Bv=1/admin",
                    "/public/%2e%2e%3b/admin"}) {
                assertThat(RequestPathPolicy.normalizeForAuthorization(target, rules)).as(rules + " " + target)
                        .isEqualTo(new Rejected("encoded semicolon in path"));
            }
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /admin;jsessionid=1             | /admin
            /admin;x                        | /admin
            /admin;                         | /admin
            /public/..;v=1/admin            | /admin
            /public/..;/admin               | /admin
            /public/.;x/../admin            | /admin
            /;x/admin                       | /admin
            /a;x/b;y=1/c;z                  | /a/b/c
            /a;x=/b/../c                    | /a/c
            /a;b/c?x=;y                     | /a/c?x=;y
            /public/%2e%2e;x/admin          | /admin
            http://h/admin;x?q              | /admin?q
            """)
    void stripModeCutsParametersOffEverySegmentBeforeNormalizing(String target, String forwarded) {
        for (EscapedSlashes slashes : EscapedSlashes.values()) {
            Result result = RequestPathPolicy.normalizeForAuthorization(target,
                    new Rules(slashes, PathParameters.STRIP));
            assertThat(result).as(slashes + " " + target).isInstanceOfSatisfying(Ok.class,
                    ok -> assertThat(ok.target()).isEqualTo(forwarded));
        }
    }

    @Test
    void stripModeKeepsTheOtherRules() {
        Rules strip = new Rules(EscapedSlashes.REJECT, PathParameters.STRIP);
        assertThat(RequestPathPolicy.normalizeForAuthorization("/a;x%2F..%2Fadmin", strip))
                .as("the parameter, encoded slash and all, is cut off").isEqualTo(new Ok("/a", null));
        assertThat(RequestPathPolicy.normalizeForAuthorization("/a%2F..%2Fadmin;x", strip))
                .isEqualTo(new Rejected("encoded slash or backslash in path"));
        assertThat(RequestPathPolicy.normalizeForAuthorization("/admin;x#f", strip))
                .isEqualTo(new Rejected("fragment in request target"));
        assertThat(RequestPathPolicy.normalizeForAuthorization("/admin;x\\y", strip))
                .isEqualTo(new Rejected("backslash in path"));
    }

    @Test
    void aQueryMayHoldSemicolons() {
        assertThat(normalizeForAuthorization("/p?a=1;b=2", REJECT)).isEqualTo(new Ok("/p", "a=1;b=2"));
        assertThat(RequestPathPolicy.isCanonicalOriginForm("/p?a=1;b=2")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/a#b", "/a;b", "/a\\b", "/a%41", "//a", "/./a", "/a/..", "http://h/a", "*", "", "a",
            "/a b", "/a\u0000", "/é"})
    void theFastPathSendsEverythingElseToTheRules(String target) {
        assertThat(RequestPathPolicy.isCanonicalOriginForm(target)).isFalse();
    }

    @Test
    void authorityOfAbsoluteForm() {
        assertThat(RequestPathPolicy.authorityOf("http://Example.com:8080/a?b")).isEqualTo("Example.com:8080");
        assertThat(RequestPathPolicy.authorityOf("https://h?b")).isEqualTo("h");
        assertThat(RequestPathPolicy.authorityOf("/a")).isNull();
        assertThat(RequestPathPolicy.authorityOf("h:443")).isNull();
    }
}
