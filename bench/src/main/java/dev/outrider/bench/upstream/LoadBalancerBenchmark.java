package dev.outrider.bench.upstream;

import dev.outrider.proxy.upstream.Endpoint;
import dev.outrider.proxy.upstream.LoadBalancer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@link LoadBalancer#pick} (P2C least-request) over a cluster of 3 and of 16 endpoints. Expected: 0 B/op. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class LoadBalancerBenchmark {
    @Param({"3", "16"})
    int endpoints;

    private List<Endpoint> cluster;

    @Setup
    public void setUp() {
        List<Endpoint> list = new ArrayList<>();
        for (int i = 0; i < endpoints; i++) {
            list.add(new Endpoint(new InetSocketAddress("127.0.0.1", 15006 + i)));
        }
        cluster = List.copyOf(list);
    }

    /** First attempt: nothing tried yet. */
    @Benchmark
    public int pick() {
        return LoadBalancer.pick(cluster, 0L);
    }

    /** A retry: endpoint 0 already tried. */
    @Benchmark
    public int pickRetry() {
        return LoadBalancer.pick(cluster, LoadBalancer.markTried(0L, 0));
    }
}
