package dev.outrider.controlplane.server;

import dev.outrider.controlplane.ca.WorkloadCa;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.TestMesh;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The serving certificate on a real listener: SANs and identity, renewal serving new handshakes while open
 * connections keep theirs, renewal scheduled at half-life, and the idle timeout.
 */
class ServingCertificateTest {
    private static final WorkloadIdentity CONTROL_PLANE =
            new WorkloadIdentity("cluster.local", "outrider-system", "control-plane");

    @TempDir
    Path dir;
    private TestMesh mesh;
    private WorkloadCa ca;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private ServingCertificate serving;
    private ApiServer server;

    @BeforeEach
    void setUp() throws Exception {
        mesh = TestMesh.create(dir);
        ca = WorkloadCa.load(mesh.caCertFile(), mesh.caKeyFile(), TestMesh.TD, Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        if (server != null) {
            server.close();
        }
        if (serving != null) {
            serving.close();
        }
        scheduler.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private void start(Duration ttl, Clock clock, Duration idleTimeout) throws Exception {
        serving = ServingCertificate.start(ca, CONTROL_PLANE, List.of("localhost", "127.0.0.1"), ttl,
                TestMesh.tlsProvider(), scheduler, clock);
        Router router = Router.builder(Runnable::run)
                .route(HttpMethod.GET, "/v1/health", Access.PUBLIC,
                        r -> CompletableFuture.completedFuture(ApiResponse.json(HttpResponseStatus.OK, Map.of("status", "ok"))))
                .build();
        server = ApiServer.bind(group, new InetSocketAddress("127.0.0.1", 0), serving, router,
                new Authenticator(TestMesh.TD, Set.of(), null), idleTimeout);
    }

    @Test
    void servesWithTheProviderAsked() throws Exception {
        start(WorkloadCa.DEFAULT_TTL, Clock.systemUTC(), Duration.ofMinutes(1));
        if (TestMesh.tlsProvider() == ServerTls.Provider.JDK) {
            assertThat(serving.provider()).isEqualTo(io.netty.handler.ssl.SslProvider.JDK);
        } else {
            assertThat(serving.provider()).isEqualTo(io.netty.handler.ssl.OpenSsl.isAvailable()
                    ? io.netty.handler.ssl.SslProvider.OPENSSL : io.netty.handler.ssl.SslProvider.JDK);
        }
    }

    private static X509Certificate served(HttpResponse<String> response) throws Exception {
        SSLSession session = response.sslSession().orElseThrow();
        assertThat(session.getProtocol()).isEqualTo("TLSv1.3");
        return (X509Certificate) session.getPeerCertificates()[0];
    }

    @Test
    void renewalServesNewHandshakesAndOpenConnectionsKeepTheirs() throws Exception {
        start(WorkloadCa.DEFAULT_TTL, Clock.systemUTC(), Duration.ofMinutes(1));
        ApiClient open = ApiClient.of(mesh.trusting(), server.address());
        X509Certificate first = served(open.get("/v1/health"));
        assertThat(first).isEqualTo(serving.certificate());
        assertThat(first.getSubjectAlternativeNames()).containsExactly(
                List.of(6, "spiffe://cluster.local/ns/outrider-system/sa/control-plane"),
                List.of(2, "localhost"), List.of(7, "127.0.0.1"));

        serving.renew();

        X509Certificate renewed = serving.certificate();
        assertThat(renewed.getSerialNumber()).isNotEqualTo(first.getSerialNumber());
        assertThat(renewed.getPublicKey()).as("a new key too").isNotEqualTo(first.getPublicKey());
        assertThat(served(open.get("/v1/health"))).as("the open connection").isEqualTo(first);
        assertThat(served(ApiClient.of(mesh.trusting(), server.address()).get("/v1/health")))
                .as("a new connection").isEqualTo(renewed);
    }

    @Test
    void renewalIsScheduledAtHalfLife() throws Exception {
        // The certificate lives 10 min; a clock 5 min ahead says half-life is now, so renewal runs at once.
        Clock ahead = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(5).plusSeconds(1));
        start(Duration.ofMinutes(10), ahead, Duration.ofMinutes(1));
        X509Certificate first = serving.certificate();
        Instant notBefore = first.getNotBefore().toInstant();
        assertThat(ServingCertificate.renewAt(first))
                .isEqualTo(notBefore.plus(Duration.between(notBefore, first.getNotAfter().toInstant()).dividedBy(2)));

        await().atMost(Duration.ofSeconds(10)).until(() -> !serving.certificate().equals(first));
        serving.close();
    }

    @Test
    void idleConnectionIsClosedByTheServer() throws Exception {
        start(WorkloadCa.DEFAULT_TTL, Clock.systemUTC(), Duration.ofSeconds(2));
        try (SSLSocket socket = (SSLSocket) mesh.trusting().getSocketFactory()
                .createSocket("127.0.0.1", server.address().getPort())) {
            socket.startHandshake();
            socket.setSoTimeout(10_000);

            assertThat(socket.getInputStream().read()).as("end of stream: the server closed").isEqualTo(-1);
        }
    }
}
