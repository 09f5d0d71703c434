package dev.outrider.proxy.tracing;

import dev.outrider.proxy.accesslog.AccessLogEntry;
import dev.outrider.proxy.config.TracingConfig;
import dev.outrider.proxy.metrics.Direction;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.codec.http.HttpHeaders;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.context.propagation.TextMapSetter;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.extension.trace.propagation.B3Propagator;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.samplers.Sampler;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * {@link Tracing} by the OpenTelemetry SDK: spans sampled parent-based (a caller's sampled flag is followed, new
 * traces at {@link TracingConfig#samplingRatio}), queued by {@link BoundedExport} and exported over OTLP/HTTP
 * (protobuf) with the JDK's HTTP client. Loaded only when tracing is on.
 *
 * <p>Propagation: a caller's W3C {@code traceparent}/{@code tracestate} is continued; without one, its B3 context
 * ({@code b3}, or {@code X-B3-*}). The span's context goes to the next hop as W3C, and as B3 too in the form the
 * caller used, so an application that speaks only B3 keeps its traces.
 */
final class OtelTracing implements Tracing {
    private static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");
    private static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    private static final AttributeKey<String> PATH = AttributeKey.stringKey("url.path");
    private static final AttributeKey<String> AUTHORITY = AttributeKey.stringKey("server.address");
    private static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    private static final AttributeKey<Long> GRPC_STATUS = AttributeKey.longKey("rpc.grpc.status_code");
    private static final AttributeKey<String> UPSTREAM = AttributeKey.stringKey("network.peer.address");
    private static final AttributeKey<String> DIRECTION = AttributeKey.stringKey("outrider.direction");
    private static final AttributeKey<String> SERVICE = AttributeKey.stringKey("outrider.destination_service");
    private static final AttributeKey<String> PEER = AttributeKey.stringKey("outrider.peer");
    private static final AttributeKey<String> AUTHN = AttributeKey.stringKey("outrider.authn");
    private static final AttributeKey<String> AUTHZ = AttributeKey.stringKey("outrider.authz");
    private static final AttributeKey<String> AUTHZ_DRY_RUN = AttributeKey.stringKey("outrider.authz_dry_run");
    private static final AttributeKey<String> RATE_LIMIT = AttributeKey.stringKey("outrider.ratelimit");

    private static final TextMapGetter<HttpHeaders> GET = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(HttpHeaders carrier) {
            return carrier.names();
        }

        @Override
        public String get(HttpHeaders carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };
    private static final TextMapSetter<HttpHeaders> SET = (carrier, key, value) -> carrier.set(key, value);
    private static final TextMapPropagator W3C = W3CTraceContextPropagator.getInstance();
    private static final TextMapPropagator B3_SINGLE = B3Propagator.injectingSingleHeader();
    private static final TextMapPropagator B3_MULTI = B3Propagator.injectingMultiHeaders();

    private final SdkTracerProvider provider;
    private final Tracer tracer;

    private OtelTracing(SdkTracerProvider provider) {
        this.provider = provider;
        this.tracer = provider.get("dev.outrider.proxy");
    }

    static Tracing start(TracingConfig config, String serviceName, MeterRegistry registry) {
        OtlpHttpSpanExporter exporter = OtlpHttpSpanExporter.builder()
                .setEndpoint(config.endpoint().toString())
                .setTimeout(Duration.ofSeconds(10))
                .build();
        SdkTracerProvider provider = SdkTracerProvider.builder()
                .setResource(Resource.create(Attributes.of(SERVICE_NAME, serviceName)))
                .setSampler(Sampler.parentBased(Sampler.traceIdRatioBased(config.samplingRatio())))
                .addSpanProcessor(new BoundedExport(exporter, config.queueSize(), registry))
                .build();
        return new OtelTracing(provider);
    }

    @Override
    public HopSpan start(Direction direction, HttpHeaders headers, String method, String path,
                         long startEpochNanos) {
        String authority = headers.get(io.netty.handler.codec.http.HttpHeaderNames.HOST);
        boolean w3c = headers.contains("traceparent");
        boolean b3Single = !w3c && headers.contains("b3");
        boolean b3Multi = !w3c && !b3Single && headers.contains("x-b3-traceid");
        Context parent = Context.root();
        if (w3c) {
            parent = W3C.extract(parent, headers, GET);
        } else if (b3Single || b3Multi) {
            parent = B3_SINGLE.extract(parent, headers, GET); // reads both forms
        }
        Span span = tracer.spanBuilder(method)
                .setParent(parent)
                .setSpanKind(direction == Direction.INBOUND ? SpanKind.SERVER : SpanKind.CLIENT)
                .setStartTimestamp(startEpochNanos, TimeUnit.NANOSECONDS)
                .setAttribute(DIRECTION, direction.tag())
                .setAttribute(METHOD, method)
                .setAttribute(PATH, pathOf(path))
                .setAttribute(AUTHORITY, authority)
                .startSpan();
        Context next = parent.with(span);
        W3C.inject(next, headers, SET);
        if (b3Single) {
            B3_SINGLE.inject(next, headers, SET);
        } else if (b3Multi) {
            B3_MULTI.inject(next, headers, SET);
        }
        return new Hop(span, direction);
    }

    @Override
    public void close() {
        provider.shutdown().join(15, TimeUnit.SECONDS);
    }

    /** The request target without its query (which may carry what is not the trace's to keep). */
    private static String pathOf(String target) {
        int q = target == null ? -1 : target.indexOf('?');
        return q < 0 ? target : target.substring(0, q);
    }

    private record Hop(Span span, Direction direction) implements HopSpan {
        @Override
        public String traceId() {
            return span.getSpanContext().getTraceId();
        }

        @Override
        public void end(int status, int grpcStatus, String upstream, String service, String peer,
                        AccessLogEntry.Auth auth) {
            if (span.isRecording()) {
                if (status > 0) {
                    span.setAttribute(STATUS, status);
                }
                if (grpcStatus >= 0) {
                    span.setAttribute(GRPC_STATUS, grpcStatus);
                }
                setIfPresent(UPSTREAM, upstream);
                setIfPresent(SERVICE, service);
                setIfPresent(PEER, peer);
                if (auth != null) {
                    setIfPresent(AUTHN, auth.authn());
                    setIfPresent(AUTHZ, auth.authz());
                    setIfPresent(AUTHZ_DRY_RUN, auth.dryRun());
                    setIfPresent(RATE_LIMIT, auth.rateLimit());
                }
                // OpenTelemetry's HTTP conventions: 5xx is an error of a server span, 4xx too of a client span
                if (status == 0 || status >= 500 || (direction == Direction.OUTBOUND && status >= 400)) {
                    span.setStatus(StatusCode.ERROR);
                }
            }
            span.end();
        }

        private void setIfPresent(AttributeKey<String> key, String value) {
            if (value != null) {
                span.setAttribute(key, value);
            }
        }
    }
}
