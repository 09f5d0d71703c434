package dev.outrider.proxy.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.Executor;

import static org.assertj.core.api.Assertions.assertThat;

class AdminHandlerTest {

    @Test
    void requestsPipelinedBehindAScrapeAreAnsweredInOrder() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.counter("probe").increment();
        ArrayDeque<Runnable> scrapes = new ArrayDeque<>();
        Executor held = scrapes::add;
        EmbeddedChannel ch = new EmbeddedChannel(new AdminHandler(registry, held, () -> Map.of("a", 1),
                new ObjectMapper().writerWithDefaultPrettyPrinter(), () -> { }));

        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/metrics"));
        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/config"));
        assertThat((Object) ch.readOutbound()).as("nothing before the scrape is done").isNull();
        assertThat(scrapes).hasSize(1);

        scrapes.poll().run();
        ch.runPendingTasks();

        FullHttpResponse metrics = ch.readOutbound();
        FullHttpResponse config = ch.readOutbound();
        try {
            assertThat(metrics.status()).isEqualTo(HttpResponseStatus.OK);
            assertThat(metrics.headers().get(HttpHeaderNames.CONTENT_TYPE))
                    .isEqualTo(AdminHandler.PROMETHEUS_TEXT);
            assertThat(metrics.content().toString(StandardCharsets.UTF_8)).contains("probe_total 1.0");
            assertThat(config.status()).isEqualTo(HttpResponseStatus.OK);
            assertThat(config.content().toString(StandardCharsets.UTF_8)).contains("\"a\" : 1");
        } finally {
            metrics.release();
            config.release();
        }
        assertThat(ch.finishAndReleaseAll()).isFalse();
        registry.close();
    }

    @Test
    void queuedRequestsAreReleasedWhenTheConnectionCloses() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ArrayDeque<Runnable> scrapes = new ArrayDeque<>();
        EmbeddedChannel ch = new EmbeddedChannel(new AdminHandler(registry, scrapes::add, Map::of,
                new ObjectMapper().writer(), () -> { }));
        DefaultFullHttpRequest waiting = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/config");

        ch.writeInbound(new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/metrics"));
        ch.writeInbound(waiting);
        assertThat(waiting.refCnt()).isEqualTo(1);

        ch.close();
        assertThat(waiting.refCnt()).isZero();
        assertThat(ch.finishAndReleaseAll()).isFalse();
        registry.close();
    }
}
