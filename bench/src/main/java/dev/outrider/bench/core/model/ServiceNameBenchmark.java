package dev.outrider.bench.core.model;

import dev.outrider.core.model.ServiceName;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.TimeUnit;

/**
 * {@link ServiceName#fromHost}, which the outbound router calls per request when the Host header (not an
 * upstream port) names the service.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ServiceNameBenchmark {
    @Param({"orders", "orders.shop:8080", "orders.shop.svc.cluster.local"})
    String host;

    @Benchmark
    public ServiceName fromHost() {
        return ServiceName.fromHost(host, "shop", "cluster.local");
    }
}
