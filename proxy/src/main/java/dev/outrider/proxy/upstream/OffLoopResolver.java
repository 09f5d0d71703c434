package dev.outrider.proxy.upstream;

import io.netty.resolver.AddressResolver;
import io.netty.resolver.AddressResolverGroup;
import io.netty.resolver.DefaultNameResolver;
import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;

import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * Resolves the host names of external services (ServiceEntry {@code resolution: DNS}) for the upstream bootstrap,
 * never on an event loop: the JDK's resolver (system configuration, /etc/hosts, the JDK's cache of 30 s) runs on its
 * own daemon threads, and the connect continues on the channel's event loop when the address is known (Netty's
 * {@code Bootstrap} hands it back). The threads start on first use, so a sidecar without DNS-resolved external
 * services starts none.
 *
 * <p>Thread-safe; {@link #close} once at shutdown.
 */
final class OffLoopResolver extends AddressResolverGroup<InetSocketAddress> {
    private static final int THREADS = 2;

    private final DefaultEventExecutorGroup executors = new DefaultEventExecutorGroup(THREADS,
            new DefaultThreadFactory("outrider-dns", true));

    @Override
    protected AddressResolver<InetSocketAddress> newResolver(EventExecutor eventLoop) {
        // One resolver per event loop (the group caches it), its blocking lookups on a resolver thread.
        return new DefaultNameResolver(executors.next()).asAddressResolver();
    }

    @Override
    public void close() {
        super.close();
        executors.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
