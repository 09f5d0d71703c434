package dev.outrider.proxy.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

class PathNormalizerTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            # target                          | normalized
            /                                 | /
            /a/b                              | /a/b
            /a/b/                             | /a/b/
            ""                                | /
            # query and fragment (RFC 3986 §3.4, §3.5)
            /a?b=c                            | /a
            /a?token=s3cret&x=/../y           | /a
            /?                                | /
            /a#frag                           | /a
            /a?q#f                            | /a
            /a#f?q                            | /a
            # absolute-form (RFC 9112 §3.2.2)
            http://example.com                | /
            http://example.com?x=1            | /
            http://example.com/               | /
            http://example.com:8080/a/b?c     | /a/b
            https://user@example.com/a/../b   | /b
            HTTP://Example.COM/%7euser        | /~user
            svc+h2.x-y://h/p                  | /p
            # asterisk-form and authority-form are not paths
            *                                 | *
            example.com:443                   | example.com:443
            [::1]:15001                       | [::1]:15001
            # neither form: never a query in the result
            foo?secret=1                      | foo
            # duplicate slashes, merged before dot segments
            //                                | /
            //a///b//                         | /a/b/
            /a//../b                          | /b
            # dot segments (RFC 3986 §5.2.4)
            /.                                | /
            /..                               | /
            /../..                            | /
            /../a                             | /a
            /a/.                              | /a/
            /a/..                             | /
            /a/b/..                           | /a/
            /a/./b                            | /a/b
            /a/b/../c                         | /a/c
            /a/b/c/./../../g                  | /a/g
            /a/../../../b                     | /b
            /a/.b/c                           | /a/.b/c
            /a/..b/c                          | /a/..b/c
            /a/b./c                           | /a/b./c
            /a/.../c                          | /a/.../c
            # percent-encoding normalization (RFC 3986 §2.3, §6.2.2.1, §6.2.2.2)
            /%61%62%63                        | /abc
            /%41%5A%30%39%2D%2E%5F%7E         | /AZ09-._~
            /a%2fb                            | /a%2Fb
            /a%2Fb                            | /a%2Fb
            /a%2f..%2fb                       | /a%2F..%2Fb
            /%2e%2E/a                         | /a
            /a/%2E%2E/b                       | /b
            /a/%2E/b                          | /a/b
            /a/.%2E                           | /
            /%c3%a9                           | /%C3%A9
            /%20x                             | /%20x
            /%3f%3Fq                          | /%3F%3Fq
            /a%                               | /a%
            /a%4                              | /a%4
            /a%zz                             | /a%zz
            /a%%41                            | /a%A
            /a%2                              | /a%2
            """)
    void normalizes(String target, String expected) {
        assertThat(PathNormalizer.normalize(target)).isEqualTo(expected);
    }

    @Test
    void alreadyNormalPathsAreReturnedAsIs() {
        String path = "/api/v1/users";
        assertThat(PathNormalizer.normalize(path)).isSameAs(path);
    }

    /** The examples of RFC 3986 §5.2.4 (the algorithm also handles relative input). */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /a/b/c/./../../g   | /a/g
            mid/content=5/../6 | mid/6
            ../a               | a
            ./a                | a
            .                  | /
            ..                 | /
            """)
    void removesDotSegmentsAsTheRfcExamples(String in, String expected) {
        assertThat(PathNormalizer.removeDotSegments(in)).isEqualTo(expected);
    }

    @Test
    void neverReturnsAQuery() {
        for (String target : new String[] {"/a?x", "http://h?x", "http://h/a?x", "x?y", "a:b?c", "/%3F?x"}) {
            assertThat(PathNormalizer.normalize(target)).doesNotContain("?");
        }
    }
}
