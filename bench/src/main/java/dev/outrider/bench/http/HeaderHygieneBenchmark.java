package dev.outrider.bench.http;

import dev.outrider.proxy.http.HeaderHygiene;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.TimeUnit;

/**
 * {@link HeaderHygiene} on the header block of a typical browser-originated API call (14 fields, a
 * Connection naming one extra field, a Keep-Alive and a TE to strip). Both functions mutate, so every
 * operation first copies the template; {@link #copyOnly} measures that copy alone and is the baseline to
 * subtract (time and B/op).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class HeaderHygieneBenchmark {
    private HttpHeaders template;
    private HttpHeaders withRequestId;

    @Setup
    public void setUp() {
        template = DefaultHttpHeadersFactory.headersFactory().newHeaders()
                .add("host", "orders.shop.svc.cluster.local:8080")
                .add("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36")
                .add("accept", "application/json, text/plain, */*")
                .add("accept-encoding", "gzip, deflate, br, zstd")
                .add("accept-language", "en-GB,en;q=0.9")
                .add("authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIn0.c2lnbmF0dXJl")
                .add("cookie", "session=4f2a9c0e; theme=dark")
                .add("content-type", "application/json")
                .add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .add("x-forwarded-for", "203.0.113.7")
                .add("connection", "keep-alive, x-debug-hop")
                .add("x-debug-hop", "1")
                .add("keep-alive", "timeout=5")
                .add("te", "trailers, deflate");
        withRequestId = new DefaultHttpHeaders().add(template).add("x-request-id", "9b2e4c1a-6f0d-4e8b-a1c3-5d7e9f0b2a4c");
    }

    @Benchmark
    public HttpHeaders copyOnly() {
        return new DefaultHttpHeaders().add(template);
    }

    @Benchmark
    public HttpHeaders stripHopByHop() {
        HttpHeaders h = new DefaultHttpHeaders().add(template);
        HeaderHygiene.stripHopByHop(h);
        return h;
    }

    /** No x-request-id in the request: one is generated (the common case at the first sidecar). */
    @Benchmark
    public String addForwardingHeaders() {
        HttpHeaders h = new DefaultHttpHeaders().add(template);
        return HeaderHygiene.addForwardingHeaders(h, "127.0.0.1", "http");
    }

    /** x-request-id already set (the common case at the second sidecar). */
    @Benchmark
    public String addForwardingHeadersWithRequestId() {
        HttpHeaders h = new DefaultHttpHeaders().add(withRequestId);
        return HeaderHygiene.addForwardingHeaders(h, "127.0.0.1", "http");
    }
}
