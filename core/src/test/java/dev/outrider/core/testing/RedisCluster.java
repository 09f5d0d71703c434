package dev.outrider.core.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis Cluster of three masters as processes on 127.0.0.1 (Debian's {@code redis-server}, joined with
 * {@code redis-cli --cluster create} from {@code redis-tools}), each in memory only, their files under {@code dir}.
 * {@link #close()} stops every node.
 */
public final class RedisCluster implements AutoCloseable {
    private static final long READY_TIMEOUT_MILLIS = 30_000;

    private final List<RedisServer> nodes = new ArrayList<>();

    private RedisCluster() {
    }

    /** Starts three nodes, gives them the 16384 slots, and returns once the cluster says it is ok. */
    public static RedisCluster start(Path dir) throws IOException, InterruptedException {
        RedisCluster cluster = new RedisCluster();
        try {
            for (int i = 0; i < 3; i++) {
                cluster.nodes.add(RedisServer.startClusterNode(dir.resolve("node-" + i)));
            }
            String cli = DebianPackages.command("redis-cli", "redis-tools");
            List<String> create = new ArrayList<>(List.of(cli, "--cluster", "create"));
            for (RedisServer n : cluster.nodes) {
                create.add("127.0.0.1:" + n.port());
            }
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            String created = run(create);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(READY_TIMEOUT_MILLIS);
            while (!cluster.ready(cli)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the Redis cluster is not ok within " + READY_TIMEOUT_MILLIS
                            + " ms; redis-cli --cluster create said:\n" + created);
                }
                Thread.sleep(100);
            }
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** Every node says {@code cluster_state:ok}. */
    private boolean ready(String cli) throws IOException, InterruptedException {
        for (RedisServer n : nodes) {
            if (!run(List.of(cli, "-h", "127.0.0.1", "-p", Integer.toString(n.port()), "cluster", "info"))
                    .contains("cluster_state:ok")) {
                return false;
            }
        }
        return true;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish: " + out);
        }
        return out;
    }

    /** {@code redis://127.0.0.1:PORT} of the first node: a seed from which a client learns the others. */
    public String uri() {
        return nodes.getFirst().uri();
    }

    @Override
    public void close() {
        nodes.forEach(RedisServer::close);
    }
}
