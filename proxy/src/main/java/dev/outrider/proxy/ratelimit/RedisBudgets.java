package dev.outrider.proxy.ratelimit;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static java.util.Objects.requireNonNull;

/**
 * Rate budgets shared by the sidecars of a workload ({@code scope: global} rules), kept in one Redis: a bucket per
 * rule and key, taken from by one atomic script ({@code gcra.lua}: the local limiter's algorithm, {@link Gcra}, on
 * Redis's clock) that grants up to a given number of tokens at once. Times are microseconds (a rule's interval is at
 * least 1 µs: at most 1,000,000 requests per second per key).
 *
 * <p>Asynchronous (Lettuce, on its own Netty event loop): only {@link #connect} and {@link #close} block. While Redis
 * is unreachable, a take fails at once (commands are rejected, not queued) and the connection is re-made in the
 * background; a take that gets no answer within the timeout fails with a {@link java.util.concurrent.TimeoutException}
 * (its answer, if it comes, is dropped: the tokens it took are lost to every sidecar, never counted twice).
 *
 * <p>Thread-safe.
 */
public final class RedisBudgets implements AutoCloseable {
    /** The script's text (a resource next to this class). */
    static final String SCRIPT = resource("gcra.lua");

    private final AbstractRedisClient client;
    private final ClientResources resources;
    private final StatefulConnection<String, String> connection;
    private final RedisScriptingAsyncCommands<String, String> commands;
    private final long timeoutNanos;
    private volatile String sha;

    /**
     * What one take got.
     *
     * @param granted    tokens taken (0 when the bucket had none)
     * @param remaining  tokens still admissible at once after them
     * @param waitMicros with none granted, microseconds until one would be; 0 otherwise
     */
    public record Grant(long granted, long remaining, long waitMicros) {
    }

    private RedisBudgets(AbstractRedisClient client, ClientResources resources, StatefulConnection<String, String> connection,
                         RedisScriptingAsyncCommands<String, String> commands, Duration timeout) {
        this.client = client;
        this.resources = resources;
        this.connection = connection;
        this.commands = commands;
        this.timeoutNanos = timeout.toNanos();
    }

    /**
     * Connects (blocking: never from an event loop) and loads the script.
     *
     * @param uri     {@code redis://[user:password@]host:port[/db]} or {@code rediss://...} (TLS), as Lettuce reads it
     * @param timeout how long a take waits for Redis's answer
     * @throws IllegalArgumentException for a URI Lettuce cannot read
     * @throws io.lettuce.core.RedisException when Redis cannot be reached
     */
    public static RedisBudgets connect(String uri, Duration timeout) {
        return connect(uri, null, timeout);
    }

    /** {@link #connect(String, Duration)} with a password kept out of the URI (null: none). */
    public static RedisBudgets connect(String uri, char[] password, Duration timeout) {
        return connect(uri, password, timeout, false);
    }

    /**
     * {@link #connect(String, char[], Duration)}; with {@code cluster}, {@code uri} is one node of a Redis Cluster (a
     * seed: the client learns the others and follows the slots, each bucket living on the node of its key's slot).
     */
    public static RedisBudgets connect(String uri, char[] password, Duration timeout, boolean cluster) {
        requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive");
        }
        RedisURI redisUri = RedisURI.create(requireNonNull(uri, "uri"));
        if (password != null) { // an ACL user named in the URI stays
            String user = userOf(uri);
            if (user == null) {
                redisUri.setAuthentication(password);
            } else {
                redisUri.setAuthentication(user, password);
            }
        }
        // one connection, a few hundred calls a second: one I/O thread and one for completions, not one per core
        ClientResources resources = DefaultClientResources.builder().ioThreadPoolSize(1).computationThreadPoolSize(1)
                .build();
        SocketOptions socket = SocketOptions.builder().connectTimeout(Duration.ofSeconds(1)).build();
        // calls a hung Redis has not answered stay queued in the client after their timeout: bounded, then refused
        int queue = 1024;
        AbstractRedisClient client = null;
        try {
            RedisBudgets budgets;
            if (cluster) {
                RedisClusterClient c = RedisClusterClient.create(resources, redisUri);
                client = c;
                c.setOptions(ClusterClientOptions.builder()
                        .autoReconnect(true)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .socketOptions(socket)
                        .requestQueueSize(queue)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enableAllAdaptiveRefreshTriggers().build())
                        .build());
                StatefulRedisClusterConnection<String, String> connection = c.connect();
                budgets = new RedisBudgets(c, resources, connection, connection.async(), timeout);
                budgets.sha = connection.sync().scriptLoad(SCRIPT); // on every node
            } else {
                RedisClient c = RedisClient.create(resources, redisUri);
                client = c;
                c.setOptions(ClientOptions.builder()
                        .autoReconnect(true)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .socketOptions(socket)
                        .requestQueueSize(queue)
                        .build());
                StatefulRedisConnection<String, String> connection = c.connect();
                budgets = new RedisBudgets(c, resources, connection, connection.async(), timeout);
                budgets.sha = connection.sync().scriptLoad(SCRIPT);
            }
            return budgets;
        } catch (RuntimeException e) {
            if (client == null) {
                resources.shutdown(0, 2, TimeUnit.SECONDS);
                throw e;
            }
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw e;
        }
    }

    /**
     * Takes up to {@code wanted} tokens from {@code bucket}.
     *
     * @param intervalMicros microseconds per token (at least 1)
     * @param capacityMicros burst × interval
     * @return completes with the grant, or exceptionally when Redis did not answer in time or failed (never throws
     *         for a Redis failure: the caller always gets its answer through the future)
     */
    public CompletableFuture<Grant> take(String bucket, long intervalMicros, long capacityMicros, long wanted) {
        requireNonNull(bucket, "bucket");
        if (intervalMicros < 1 || capacityMicros < intervalMicros || wanted < 1) {
            throw new IllegalArgumentException("interval " + intervalMicros + " µs, capacity " + capacityMicros
                    + " µs, wanted " + wanted + ": need interval >= 1, capacity >= interval, wanted >= 1");
        }
        String[] keys = {bucket};
        String[] args = {Long.toString(intervalMicros), Long.toString(capacityMicros), Long.toString(wanted)};
        CompletableFuture<List<Long>> answer;
        try {
            answer = commands.<List<Long>>evalsha(sha, ScriptOutputType.MULTI, keys, args).toCompletableFuture()
                    .exceptionallyCompose(e -> noScript(e) ? reload(keys, args) : CompletableFuture.failedFuture(e));
        } catch (RuntimeException e) { // the connection closed under the call: Lettuce throws instead of failing it
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.orTimeout(timeoutNanos, TimeUnit.NANOSECONDS)
                .thenApply(values -> new Grant(values.get(0), values.get(1), values.get(2)));
    }

    /** Redis lost its scripts (restarted, or SCRIPT FLUSH): load it again and run it this once with EVAL. */
    private CompletableFuture<List<Long>> reload(String[] keys, String[] args) {
        try {
            commands.scriptLoad(SCRIPT).thenAccept(loaded -> sha = loaded);
            return commands.<List<Long>>eval(SCRIPT, ScriptOutputType.MULTI, keys, args).toCompletableFuture();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** The ACL user a URI names before its host ({@code redis://user@host}), or null. */
    private static String userOf(String uri) {
        try {
            String info = java.net.URI.create(uri).getRawUserInfo();
            return info == null || info.isEmpty() ? null
                    : java.net.URLDecoder.decode(info, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean noScript(Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return cause instanceof RedisNoScriptException;
    }

    /** Whether the connection to Redis is up now (it is re-made in the background after a loss). */
    public boolean connected() {
        return connection.isOpen();
    }

    /**
     * Runs {@code then} (on a Redis client thread) each time the connection closes, also when it is made again
     * before any call noticed: Redis may have restarted and lost its budgets meanwhile.
     */
    public void onDisconnect(Runnable then) {
        requireNonNull(then, "then");
        client.addListener(new RedisConnectionStateListener() {
            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> c) {
                then.run();
            }
        });
    }

    @Override
    public void close() {
        connection.close();
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }

    private static String resource(String name) {
        try (InputStream in = RedisBudgets.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing next to " + RedisBudgets.class);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
