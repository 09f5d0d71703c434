package dev.outrider.core.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real Redis server as a process on 127.0.0.1 (Debian's {@code redis-server}; installed with apt-get when
 * missing and the tests run as root), on a free port below the ephemeral range, in memory only (no RDB or AOF
 * file), its log in {@code dir}. {@link #kill()} and {@link #restart()} are for outage tests; {@link #close()}
 * stops it.
 */
public final class RedisServer implements AutoCloseable {
    private static final long START_TIMEOUT_MILLIS = 10_000;

    private final Path dir;
    private final int port;
    private final java.util.List<String> extraArgs;
    /** A Sentinel's configuration file (the Sentinel rewrites it); null for a server. */
    private Path sentinelConf;
    private Process process;

    private RedisServer(Path dir, int port, java.util.List<String> extraArgs) {
        this.dir = dir;
        this.port = port;
        this.extraArgs = extraArgs;
    }

    /** Starts a server with its files (the log) in {@code dir}; returns once it answers PING. */
    public static RedisServer start(Path dir) throws IOException, InterruptedException {
        return started(dir, null, java.util.List.of(), 0);
    }

    /**
     * A server (or a Sentinel, with {@code sentinelPrimary} its primary's port and {@code sentinelName} its name) on
     * a free port: a port probed free can be taken by another process before the server binds it, so a start that
     * failed on "Address already in use" is tried again on another port (up to 3 times).
     */
    private static RedisServer started(Path dir, String sentinelName, java.util.List<String> extraArgs,
                                       int sentinelPrimary) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        for (int attempt = 1; ; attempt++) {
            RedisServer server = new RedisServer(dir, FreePorts.belowEphemeralRange(), extraArgs);
            if (sentinelName != null) {
                server.sentinelConf = dir.resolve("sentinel.conf");
                Files.writeString(server.sentinelConf, String.join("\n",
                        "bind 127.0.0.1", "port " + server.port, "dir " + dir, "logfile " + dir.resolve("redis.log"),
                        "sentinel monitor " + sentinelName + " 127.0.0.1 " + sentinelPrimary + " 1",
                        "sentinel down-after-milliseconds " + sentinelName + " 2000", ""));
            }
            try {
                server.launch();
                return server;
            } catch (IllegalStateException e) {
                server.close();
                if (attempt == 3 || !String.valueOf(e.getMessage()).contains("Address already in use")) {
                    throw e;
                }
            }
        }
    }

    /**
     * Starts a Redis Sentinel (the same binary in sentinel mode) on a free port, monitoring the primary on
     * {@code primaryPort} under {@code name} with a quorum of one; returns once it answers PING. Clients reach the
     * primary through it with {@code redis-sentinel://127.0.0.1:PORT/0#NAME} ({@link #sentinelUri}).
     */
    public static RedisServer startSentinel(Path dir, int primaryPort, String name)
            throws IOException, InterruptedException {
        return started(dir, name, java.util.List.of(), primaryPort);
    }

    /** {@code redis-sentinel://127.0.0.1:PORT/0#name} of this Sentinel. */
    public String sentinelUri(String name) {
        return "redis-sentinel://127.0.0.1:" + port + "/0#" + name;
    }

    /**
     * Starts a server in cluster mode (its node configuration in {@code dir}), owning no slots yet: see
     * {@link RedisCluster}.
     */
    static RedisServer startClusterNode(Path dir) throws IOException, InterruptedException {
        return started(dir, null, java.util.List.of("--cluster-enabled", "yes", "--cluster-config-file",
                dir.resolve("nodes.conf").toString(), "--cluster-node-timeout", "2000"), 0);
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:PORT}. */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** Kills the server (SIGKILL) and waits for it to exit: Redis is down until {@link #restart()}. */
    public void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Starts the server again on the same port, empty. */
    public void restart() throws IOException, InterruptedException {
        kill();
        launch();
    }

    /** The server's log so far, for failure messages. */
    public String log() {
        try {
            return Files.readString(dir.resolve("redis.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private void launch() throws IOException, InterruptedException {
        String server = DebianPackages.command("redis-server", "redis-server");
        java.util.List<String> command = sentinelConf != null
                ? java.util.List.of(server, sentinelConf.toString(), "--sentinel")
                : new java.util.ArrayList<>(java.util.List.of(server, "--bind", "127.0.0.1",
                "--port", Integer.toString(port), "--save", "", "--appendonly", "no", "--dir", dir.toString(),
                "--logfile", dir.resolve("redis.log").toString(), "--daemonize", "no", "--protected-mode", "yes"));
        if (sentinelConf == null) {
            command.addAll(extraArgs);
        }
        process = new ProcessBuilder(command)
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.out").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
        while (!answersPing()) {
            if (!process.isAlive()) {
                throw new IllegalStateException("redis-server exited (" + process.exitValue() + "): " + log());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("redis-server did not answer within " + START_TIMEOUT_MILLIS
                        + " ms: " + log());
            }
            Thread.sleep(20);
        }
    }

    private boolean answersPing() {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(1000);
            OutputStream out = s.getOutputStream();
            out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            byte[] answer = s.getInputStream().readNBytes(7);
            return new String(answer, StandardCharsets.US_ASCII).equals("+PONG\r\n");
        } catch (IOException notYet) {
            return false;
        }
    }

    @Override
    public void close() {
        try {
            if (process != null) {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
