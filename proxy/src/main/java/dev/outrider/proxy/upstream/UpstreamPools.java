package dev.outrider.proxy.upstream;

import dev.outrider.proxy.config.UpstreamConfig;
import dev.outrider.proxy.transport.Transport;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.PromiseCombiner;

import java.util.IdentityHashMap;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/**
 * One {@link UpstreamPool} per event loop of the sidecar's transport, made up front: the map is built once
 * and never changes, so lookups from any loop need no synchronization.
 */
public final class UpstreamPools {
    private final Map<EventExecutor, UpstreamPool> pools = new IdentityHashMap<>();

    public UpstreamPools(Transport transport, UpstreamConfig config) {
        requireNonNull(transport, "transport");
        requireNonNull(config, "config");
        for (EventExecutor executor : transport.group()) {
            pools.put(executor, new UpstreamPool((EventLoop) executor, transport, config));
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

    /** Closes every pool on its own loop; the future completes when all have run. */
    public Future<Void> close(EventExecutor any) {
        PromiseCombiner combiner = new PromiseCombiner(any);
        for (Map.Entry<EventExecutor, UpstreamPool> e : pools.entrySet()) {
            combiner.add(e.getKey().submit(e.getValue()::close));
        }
        var done = any.<Void>newPromise();
        any.execute(() -> combiner.finish(done));
        return done;
    }
}
