package dev.outrider.proxy.it;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Path normalization at B's inbound listener, through the sidecar pair (A's outbound takes raw HTTP/1.1; A → B
 * is HTTP/2 over mTLS, so B normalizes on an HTTP/2 stream): the application receives the canonical path,
 * and a refused target is a 400 that reaches the caller while nothing reaches the application.
 */
class PathNormalizationPairTest {
    private static TestBackend backend;
    private static SidecarPair pair;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start();
        pair = SidecarPair.start(backend.port(), "http1");
    }

    @AfterAll
    static void stop() {
        if (pair != null) {
            pair.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    @BeforeEach
    void clear() {
        backend.clear();
    }

    private static String exchange(String target) throws Exception {
        try (RawHttp raw = new RawHttp(pair.outbound())) {
            raw.send("GET " + target + " HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n");
            return raw.readToEof();
        }
    }

    /** CVE-2019-9901 and the encoded variants: the application gets exactly the path that was normalized. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            /public/../admin          | /admin
            /public/%2e%2E/admin?x=%2F | /admin?x=%2F
            //admin                   | /admin
            /a/b/../../../admin       | /admin
            /%61dmin?q=/../x          | /admin?q=/../x
            """)
    void theApplicationReceivesTheCanonicalPath(String target, String received) throws Exception {
        assertThat(exchange(target)).startsWith("HTTP/1.1 200 ");
        assertThat(backend.take().uri()).isEqualTo(received);
    }

    /** CVE-2021-31920 and CVE-2021-39156, and malformed encodings: refused at B, never forwarded. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            /public%2F..%2Fadmin | encoded slash or backslash in path
            /public%5c..%5cadmin | encoded slash or backslash in path
            /admin#public        | fragment in request target
            /public/#/../admin   | fragment in request target
            /a%00                | encoded control character in path
            /a%zz                | invalid percent-encoding in path
            /admin;jsessionid=1  | path parameter (;) in path
            /public/..;v=1/admin | path parameter (;) in path
            /admin%3Bx           | encoded semicolon in path
            """)
    void refusedTargetsNeverReachTheApplication(String target, String reason) throws Exception {
        int before = backend.requestCount();
        String response = exchange(target);
        assertThat(response).startsWith("HTTP/1.1 400 ").contains("outrider: " + reason);
        assertThat(backend.requestCount()).as("nothing forwarded").isEqualTo(before);
    }
}
