package dev.outrider.controlplane.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.election.LeaderKey;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * One replica's campaign in an etcd election (etcd's v3 election API through jetcd): it holds a lease of
 * {@code ttl}, kept alive by jetcd's keep-alive stream, and campaigns with it; etcd makes the oldest campaign
 * leader, and when the leader's lease expires (the process died, or lost etcd for a TTL) its key goes and the
 * next campaign wins.
 *
 * <p>{@link #isLeader()} is true only between winning and the lease's end as this process last knew it: after a
 * campaign won, and while the last keep-alive answer is younger than the TTL. So a replica cut off from etcd stops
 * calling itself leader no later than etcd gives its lease away (its clock runs the TTL from the request, etcd's from
 * the answer, which comes later). On any failure (a keep-alive stream ending, a campaign refused) the campaign
 * starts over with a new lease after {@link #RETRY}.
 *
 * <p>Threading: jetcd's callbacks and one daemon thread ({@code outrider-election-NAME}) change the state; every
 * change of the lease and campaign happens under {@code this}; {@link #isLeader()} reads volatiles.
 */
final class EtcdLeadership implements Leadership {
    private static final Logger log = LoggerFactory.getLogger(EtcdLeadership.class);
    static final Duration DEFAULT_TTL = Duration.ofSeconds(10);
    static final Duration RETRY = Duration.ofSeconds(1);

    private final Client client;
    private final ByteSequence election;
    private final String name;
    private final long ttlSeconds;
    private final ByteSequence proposal;
    private final ScheduledExecutorService thread;

    /** Guarded by this. */
    private long lease;
    /** Guarded by this. */
    private CloseableClient keepAlive;
    /** Guarded by this. */
    private LeaderKey leaderKey;
    /** Guarded by this: bumped at every new campaign, so callbacks of an abandoned one are ignored. */
    private long attempt;
    private volatile boolean closed;
    private volatile boolean won;
    /** {@link System#nanoTime()} of the request whose keep-alive answer came last; the lease lasts a TTL from it. */
    private volatile long renewedAtNanos;

    EtcdLeadership(Client client, ByteSequence election, String name, Duration ttl) {
        this.client = requireNonNull(client, "client");
        this.election = requireNonNull(election, "election");
        this.name = requireNonNull(name, "name");
        this.ttlSeconds = Math.max(2, requireNonNull(ttl, "ttl").toSeconds());
        this.proposal = ByteSequence.from(ManagementFactory.getRuntimeMXBean().getName(), StandardCharsets.UTF_8);
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "outrider-election-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    void start() {
        schedule(0);
    }

    @Override
    public boolean isLeader() {
        return won && !closed && System.nanoTime() - renewedAtNanos < TimeUnit.SECONDS.toNanos(ttlSeconds);
    }

    private void schedule(long delayMillis) {
        try {
            thread.schedule(this::campaign, delayMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            // closed
        }
    }

    /** Election thread: a new lease, its keep-alive stream, and a campaign with it. */
    private void campaign() {
        long mine;
        long leaseId;
        synchronized (this) {
            if (closed) {
                return;
            }
            mine = ++attempt;
        }
        try {
            long requestedAt = System.nanoTime();
            leaseId = client.getLeaseClient().grant(ttlSeconds).get(ttlSeconds, TimeUnit.SECONDS).getID();
            renewedAtNanos = requestedAt;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            retry(mine, "granting its lease failed: " + e);
            return;
        }
        synchronized (this) {
            if (closed || mine != attempt) {
                client.getLeaseClient().revoke(leaseId);
                return;
            }
            lease = leaseId;
            keepAlive = client.getLeaseClient().keepAlive(leaseId, new StreamObserver<>() {
                private long sentAt = System.nanoTime();

                @Override
                public void onNext(LeaseKeepAliveResponse answer) {
                    if (answer.getTTL() > 0) {
                        renewedAtNanos = sentAt; // conservative: at most one keep-alive period late
                        sentAt = System.nanoTime();
                    } else {
                        retry(mine, "its lease expired");
                    }
                }

                @Override
                public void onError(Throwable t) {
                    retry(mine, "renewing its lease failed: " + t);
                }

                @Override
                public void onCompleted() {
                    retry(mine, "the lease's keep-alive stream ended");
                }
            });
        }
        client.getElectionClient().campaign(election, leaseId, proposal).whenComplete((answer, failure) -> {
            synchronized (this) {
                if (closed || mine != attempt) {
                    return;
                }
                if (failure != null) {
                    retry(mine, "campaigning failed: " + failure);
                    return;
                }
                leaderKey = answer.getLeader();
                won = true;
            }
            log.info("this replica now leads '{}' (etcd lease {}, TTL {} s)", name, leaseId, ttlSeconds);
        });
    }

    /** Any thread: gives up attempt {@code mine} (when it is still the current one) and campaigns again. */
    private void retry(long mine, String why) {
        synchronized (this) {
            if (closed || mine != attempt) {
                return;
            }
            attempt++; // callbacks of this attempt are ignored from now on
            if (won) {
                log.warn("this replica no longer leads '{}': {}", name, why);
            } else {
                log.debug("campaign for '{}' starts over: {}", name, why);
            }
            won = false;
            release();
        }
        schedule(RETRY.toMillis());
    }

    /** Under this: ends the keep-alive stream and revokes the lease (etcd then deletes the campaign's key). */
    private void release() {
        leaderKey = null;
        if (keepAlive != null) {
            keepAlive.close();
            keepAlive = null;
        }
        if (lease != 0) {
            client.getLeaseClient().revoke(lease).exceptionally(e -> null); // expires anyway
            lease = 0;
        }
    }

    /** Resigns (revoking the lease ends the leadership at once) and stops the election thread. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            attempt++;
            won = false;
            release();
        }
        thread.shutdownNow();
    }
}
