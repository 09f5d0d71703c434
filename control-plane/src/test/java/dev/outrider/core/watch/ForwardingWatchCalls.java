package dev.outrider.core.watch;

import dev.outrider.core.client.SnapshotPoll;
import dev.outrider.core.snapshot.SnapshotResult;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** The real client's {@link WatchCalls}, passed through; a test overrides the call it observes. */
abstract class ForwardingWatchCalls implements WatchCalls {
    private final WatchCalls real;

    ForwardingWatchCalls(WatchCalls real) {
        this.real = real;
    }

    @Override
    public CompletableFuture<SnapshotPoll> pollSnapshot(String namespace, String serviceAccount, long after,
                                                        Duration wait, String instance, long ackVersion) {
        return real.pollSnapshot(namespace, serviceAccount, after, wait, instance, ackVersion);
    }

    @Override
    public Duration register(String service, String instance, String address) {
        return real.register(service, instance, address);
    }

    @Override
    public void deregister(String instance) {
        real.deregister(instance);
    }

    @Override
    public void reportStatus(String instance, String version, SnapshotResult result, String error) {
        real.reportStatus(instance, version, result, error);
    }

    @Override
    public Duration requestTimeout() {
        return real.requestTimeout();
    }
}
