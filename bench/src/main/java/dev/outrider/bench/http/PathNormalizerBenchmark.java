package dev.outrider.bench.http;

import dev.outrider.proxy.http.PathNormalizer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.TimeUnit;

/**
 * {@link PathNormalizer#normalize} on: a normal path (the fast path, expected 0 B/op), a normal path with a
 * query (one substring), and a path that needs every step (merge, decode, dot segments).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class PathNormalizerBenchmark {
    @Param({
            "/api/v1/orders/12345/items",
            "/api/v1/orders/12345/items?page=2&size=50",
            "/api//v1/./orders/%7euser/../12345/%2Fitems",
    })
    String uri;

    @Benchmark
    public String normalize() {
        return PathNormalizer.normalize(uri);
    }
}
