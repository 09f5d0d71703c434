package dev.outrider.core.watch;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.SnapshotPoll;
import dev.outrider.core.snapshot.SnapshotResult;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The calls a {@link SnapshotWatcher} makes, as {@link ControlPlaneClient} implements them; an interface so that
 * the watch loop's decisions are unit-tested with scripted answers.
 */
interface WatchCalls {
    /** {@link ControlPlaneClient#pollSnapshot}: {@code ackVersion} negative for none. */
    CompletableFuture<SnapshotPoll> pollSnapshot(String namespace, String serviceAccount, long after, Duration wait,
                                                 String instance, long ackVersion);

    /** With the plaintext count on the ACK ({@code plaintextConnections} negative for none); by default without it. */
    default CompletableFuture<SnapshotPoll> pollSnapshot(String namespace, String serviceAccount, long after,
                                                         Duration wait, String instance, long ackVersion,
                                                         long plaintextConnections) {
        return pollSnapshot(namespace, serviceAccount, after, wait, instance, ackVersion);
    }

    Duration register(String service, String instance, String address);

    void deregister(String instance);

    void reportStatus(String instance, String version, SnapshotResult result, String error);

    /** The longest a synchronous call may block (close() waits that long for the deregistration). */
    Duration requestTimeout();

    static WatchCalls of(ControlPlaneClient client) {
        return new WatchCalls() {
            @Override
            public CompletableFuture<SnapshotPoll> pollSnapshot(String namespace, String serviceAccount, long after,
                                                                Duration wait, String instance, long ackVersion) {
                return client.pollSnapshot(namespace, serviceAccount, after, wait, instance, ackVersion);
            }

            @Override
            public CompletableFuture<SnapshotPoll> pollSnapshot(String namespace, String serviceAccount, long after,
                                                                Duration wait, String instance, long ackVersion,
                                                                long plaintextConnections) {
                return client.pollSnapshot(namespace, serviceAccount, after, wait, instance, ackVersion,
                        plaintextConnections);
            }

            @Override
            public Duration register(String service, String instance, String address) {
                return client.register(service, instance, address);
            }

            @Override
            public void deregister(String instance) {
                client.deregister(instance);
            }

            @Override
            public void reportStatus(String instance, String version, SnapshotResult result, String error) {
                client.reportStatus(instance, version, result, error);
            }

            @Override
            public Duration requestTimeout() {
                return client.config().requestTimeout();
            }
        };
    }
}
