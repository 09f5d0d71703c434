package dev.outrider.proxy.upstream;

import dev.outrider.proxy.config.UpstreamConfig;
import dev.outrider.proxy.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * One {@link UpstreamPool} per event loop of the sidecar's transport, made up front: the map is built once
 * and never changes, so lookups from any loop need no synchronization.
 */
public final class UpstreamPools {
    private final Map<EventExecutor, UpstreamPool> pools = new IdentityHashMap<>();
    private final OffLoopResolver resolver = new OffLoopResolver();

    public UpstreamPools(Transport transport, UpstreamConfig config) {
        requireNonNull(transport, "transport");
        requireNonNull(config, "config");
        for (EventExecutor executor : transport.group()) {
            pools.put(executor, new UpstreamPool((EventLoop) executor, transport, config, resolver));
        }
    }

    /** The pool of {@code loop}; call on that loop only. */
    public UpstreamPool of(EventLoop loop) {
        UpstreamPool pool = pools.get(loop);
        if (pool == null) {
            throw new IllegalArgumentException("event loop " + loop + " is not one of this sidecar's");
        }
        return pool;
    }

    /**
     * Closes every pool on its own loop and waits (bounded) for them. Called from the drain thread, never
     * from an event loop.
     */
    public void close(long timeout, TimeUnit unit) {
        List<Future<?>> closing = new ArrayList<>(pools.size());
        for (Map.Entry<EventExecutor, UpstreamPool> e : pools.entrySet()) {
            if (!e.getKey().isShuttingDown()) {
                closing.add(e.getKey().submit(e.getValue()::close));
            }
        }
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (Future<?> f : closing) {
            f.awaitUninterruptibly(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        resolver.close();
    }
}
