package dev.outrider.proxy.it;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapLoader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code http.idleTimeout} on real sockets: a downstream keep-alive connection with no traffic for the timeout
 * is closed by the sidecar, one that keeps sending requests more often than that stays open past it.
 */
class IdleTimeoutTest {
    private static final String EMPTY_BODY_ECHO = "0 " + TestBackend.sha256(new byte[0]);
    private static TestBackend backend;
    private static Sidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        backend = TestBackend.start();
        sidecar = Sidecar.start(BootstrapLoader.parse("""
                node: {service: orders, namespace: shop}
                inbound: {listen: 127.0.0.1:0, application: 127.0.0.1:%d, applicationProtocol: http1}
                outbound: {listen: 127.0.0.1:0}
                health: {listen: 127.0.0.1:0}
                admin: {listen: 127.0.0.1:0}
                accessLog: {enabled: false}
                runtime: {eventLoops: 2, drainTimeout: 2s}
                http: {idleTimeout: 1s}
                upstream: {idleTimeout: 1s}
                tls: {mode: disabled}
                policies: {defaultAction: allow}
                """.formatted(backend.port()), "idle-inbound"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (sidecar != null) {
            sidecar.close();
        }
        if (backend != null) {
            backend.close();
        }
    }

    private static void exchange(RawHttp raw, String path) throws Exception {
        raw.send("GET " + path + " HTTP/1.1\r\nHost: orders\r\n\r\n");
        assertThat(RawHttp.status(raw.readHead())).isEqualTo(200);
        assertThat(raw.readBytes(EMPTY_BODY_ECHO.length())).isEqualTo(EMPTY_BODY_ECHO);
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedBySidecar() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.inboundAddress())) {
            exchange(raw, "/idle");
            // nothing more is sent: the sidecar closes after the idle timeout (RawHttp reads for up to 5 s)
            assertThat(raw.readToEof()).isEmpty();
        }
    }

    @Test
    void aConnectionWithRequestsMoreOftenThanTheTimeoutStaysOpenPastIt() throws Exception {
        try (RawHttp raw = new RawHttp(sidecar.inboundAddress())) {
            for (int i = 0; i < 12; i++) { // ~2.4 s in all, more than twice the timeout
                exchange(raw, "/busy-" + i);
                Thread.sleep(200);
            }
            exchange(raw, "/still-open");
        }
    }
}
