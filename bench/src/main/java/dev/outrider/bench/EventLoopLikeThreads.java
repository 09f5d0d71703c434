package dev.outrider.bench;

import io.netty.util.concurrent.DefaultThreadFactory;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * JMH's worker threads as Netty's own ({@link io.netty.util.concurrent.FastThreadLocalThread}s, made by Netty's
 * {@link DefaultThreadFactory} as an event loop's are), for benchmarks that run pipeline code on the
 * benchmark thread. Netty treats other threads differently: its {@code Recycler} pools objects only on a thread
 * that cleans up its fast thread-locals, so on a plain JMH thread, for instance, every channel write allocates
 * a {@code ChannelOutboundBuffer.Entry} that an event loop reuses; the figures would then count costs the
 * sidecar does not pay.
 *
 * <p>Selected per benchmark with {@code @Fork(jvmArgsPrepend = {"-Djmh.executor=CUSTOM",
 * "-Djmh.executor.class=dev.outrider.bench.EventLoopLikeThreads"})}: JMH then creates its workers with this
 * executor ({@code (int threads, String prefix)} is the constructor JMH calls).
 */
public final class EventLoopLikeThreads extends ThreadPoolExecutor {
    public EventLoopLikeThreads(int threads, String prefix) {
        super(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                new DefaultThreadFactory(prefix + "-jmh-worker", true));
    }
}
