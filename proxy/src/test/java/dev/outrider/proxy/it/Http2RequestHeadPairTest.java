package dev.outrider.proxy.it;

import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An HTTP/2 request head that cannot be a request line ({@code :path} with a space, {@code :method} that is not
 * a token), sent as h2c to A's outbound listener: the stream is reset, nothing is forwarded, the connection
 * serves the next request, and no buffer leaks (the leak detector runs at PARANOID and {@code LeakGuard}
 * fails the class on a report).
 */
class Http2RequestHeadPairTest {
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

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource(delimiter = '|', textBlock = """
            GET    | '/admin '
            GET    | '/public/.. /admin'
            'GE T' | /hello
            """)
    void theStreamIsResetAndTheConnectionServesTheNextRequest(String method, String path) throws Exception {
        int before = backend.requestCount();
        try (H2Client client = new H2Client(pair.outbound())) {
            for (int i = 0; i < 20; i++) { // enough for the detector to notice one leaked buffer a request
                Http2Headers head = H2Client.get(path, "orders").method(method);
                assertThatThrownBy(() -> client.sendRaw(head).join()).isInstanceOf(CompletionException.class)
                        .hasMessageContaining("stream closed");
            }
            assertThat(client.sendRaw(H2Client.get("/after", "orders")).join().status().code()).isEqualTo(200);
        }
        assertThat(backend.take().uri()).isEqualTo("/after");
        assertThat(backend.requestCount()).as("only /after forwarded").isEqualTo(before + 1);
    }
}
