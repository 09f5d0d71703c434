package dev.outrider.proxy.inbound;

import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.proxy.accesslog.AccessLog;
import dev.outrider.proxy.accesslog.SecurityEvent;
import dev.outrider.proxy.accesslog.SecurityEvents;
import dev.outrider.proxy.authn.JwksCache;
import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.proxy.config.EscapedSlashes;
import dev.outrider.proxy.config.HttpConfig;
import dev.outrider.proxy.config.JwtConfig;
import dev.outrider.proxy.config.NodeConfig;
import dev.outrider.proxy.config.PathParameters;
import dev.outrider.proxy.config.PolicyConfig;
import dev.outrider.proxy.http.DownstreamHttp;
import dev.outrider.proxy.http.Http2ConnectionErrorHandler;
import dev.outrider.proxy.metrics.Direction;
import dev.outrider.proxy.metrics.ProxyMetrics;
import dev.outrider.proxy.policy.PolicyMetrics;
import dev.outrider.proxy.policy.PolicyStore;
import dev.outrider.proxy.policy.WorkloadPolicyCompiler;
import dev.outrider.proxy.ratelimit.RateLimiter;
import dev.outrider.proxy.runtime.DrainState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the inbound checks hand the security event stream, behind the real HTTP/1.1 codec on an EmbeddedChannel
 * with policies compiled by the real compiler: a refusal asks for one event and builds it with its policy, rule
 * and path; an admitted request asks for none (so it builds none); failing closed is an event too.
 */
class LocalReplySecurityEventsTest {
    private static final HttpConfig HTTP = new HttpConfig(1024, 8192, 50, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(10));
    private static final NodeConfig NODE = new NodeConfig("orders", "shop", "orders", "cluster.local",
            Map.of("app", "orders"));
    private static final String DOCUMENTS = """
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-allow, namespace: shop}
            spec:
              action: ALLOW
              rules: [{to: [{operation: {paths: ["/public/*"]}}]}]
            ---
            apiVersion: outrider.dev/v1
            kind: AuthorizationPolicy
            metadata: {name: orders-deny-admin, namespace: shop}
            spec:
              action: DENY
              rules: [{to: [{operation: {paths: ["/public/admin/*"]}}]}]
            """;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final PolicyMetrics policyMetrics = new PolicyMetrics(registry);
    private final JwksCache jwks = new JwksCache(JwksCache.Config.defaults());
    private final RateLimiter rateLimiter = new RateLimiter(10_000, Duration.ZERO, System::nanoTime, registry);
    private final PolicyStore store = new PolicyStore(new WorkloadPolicyCompiler(NODE,
            new PolicyConfig(null, DefaultAction.DENY, "outrider-system", EscapedSlashes.REJECT, PathParameters.REJECT,
                    Duration.ofSeconds(2)),
            new JwtConfig(List.of("ES256"), Duration.ofSeconds(60), 16 * 1024, 100, Duration.ofMinutes(5)),
            jwks, policyMetrics, rateLimiter).compile("v1", "test", PolicyDocuments.parse(DOCUMENTS, "p.yaml")));
    private final RecordingSecurityEvents events = new RecordingSecurityEvents();
    private final InboundPolicy policy = new InboundPolicy(store, policyMetrics, new ProxyMetrics(registry),
            AccessLog.disabled(), events, new DrainState(), 8080);
    private final EmbeddedChannel ch = new EmbeddedChannel();

    {
        new DownstreamHttp(HTTP, 1000, new Http2ConnectionErrorHandler(Direction.INBOUND, policy.metrics()), p -> {
            InboundRequest state = new InboundRequest(policy.applicationPort());
            p.addLast("authn", new AuthnHandler(policy, state));
            p.addLast("authz", new AuthzHandler(policy, state));
        }).addHttp1(ch.pipeline());
    }

    /** The real security event interface, admitting every event and keeping it. */
    private static final class RecordingSecurityEvents implements SecurityEvents {
        final List<SecurityEvent> emitted = new ArrayList<>();
        int asked;

        @Override
        public boolean admit() {
            asked++;
            return true;
        }

        @Override
        public void emit(SecurityEvent e) {
            emitted.add(e);
        }

        @Override
        public void close() {
        }
    }

    @AfterEach
    void finish() {
        ch.finishAndReleaseAll();
        rateLimiter.close();
        jwks.close();
    }

    private String send(String raw) {
        ch.writeInbound(Unpooled.copiedBuffer(raw, StandardCharsets.ISO_8859_1));
        StringBuilder out = new StringBuilder();
        ByteBuf b;
        while ((b = ch.readOutbound()) != null) {
            out.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return out.toString();
    }

    @Test
    void anAdmittedRequestAsksForNoEvent() {
        assertThat(send("GET /public/x HTTP/1.1\r\nHost: orders\r\n\r\n")).isEmpty();
        assertThat(ch.<Object>readInbound()).isInstanceOf(HttpRequest.class);
        assertThat(events.asked).isZero();
        assertThat(events.emitted).isEmpty();
    }

    @Test
    void aDenialIsOneEventNamingPolicyRuleAndRequest() {
        assertThat(send("GET /public/admin/users?token=hunter2 HTTP/1.1\r\nHost: orders\r\nx-request-id: r-1\r\n\r\n"))
                .startsWith("HTTP/1.1 403 ");
        assertThat(events.asked).isEqualTo(1);
        assertThat(events.emitted).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo(SecurityEvent.Type.AUTHZ_DENIED);
            assertThat(e.direction()).isEqualTo(Direction.INBOUND);
            assertThat(e.policy()).isEqualTo("shop/orders-deny-admin");
            assertThat(e.rule()).isEqualTo("0");
            assertThat(e.reason()).isEqualTo("deny policy shop/orders-deny-admin rule 0");
            assertThat(e.method()).isEqualTo("GET");
            assertThat(e.authority()).isEqualTo("orders");
            assertThat(e.requestId()).isEqualTo("r-1");
            assertThat(e.peer()).isNull(); // no certificate on an EmbeddedChannel
        });
    }

    @Test
    void theDefaultDenyIsAnEventWithoutAPolicy() {
        assertThat(send("GET /elsewhere HTTP/1.1\r\nHost: orders\r\n\r\n")).startsWith("HTTP/1.1 403 ");
        assertThat(events.emitted).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo(SecurityEvent.Type.AUTHZ_DENIED);
            assertThat(e.policy()).isNull();
            assertThat(e.rule()).isNull();
            assertThat(e.reason()).isNotBlank();
        });
    }

    @Test
    void failingClosedWithoutASnapshotIsAPolicyUnavailableEvent() {
        store.apply(store.current().refusing("no policy snapshot yet"));
        assertThat(send("GET /public/x HTTP/1.1\r\nHost: orders\r\n\r\n")).startsWith("HTTP/1.1 503 ");
        assertThat(events.emitted).singleElement().satisfies(e -> {
            assertThat(e.type()).isEqualTo(SecurityEvent.Type.POLICY_UNAVAILABLE);
            assertThat(e.reason()).isEqualTo("refused: no policy snapshot yet");
            assertThat(e.policy()).isNull();
        });
    }
}
