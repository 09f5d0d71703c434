package dev.outrider.bench.tls;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.proxy.config.TlsConfig;
import dev.outrider.proxy.tls.HandshakeFailure;
import dev.outrider.proxy.tls.TlsState;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCounted;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One full mTLS handshake per call, in memory: a client {@link SSLEngine} (sidecar A's outbound side) and a
 * server {@link SSLEngine} (sidecar B's inbound side) from the proxy's own contexts, bytes handed between them
 * by wrap/unwrap on one thread, no sockets. ops/s = handshakes/s on one core.
 *
 * <p>What a handshake is here: TLS 1.3, ECDSA P-256 leaves from one P-256 root, client certificate required,
 * ALPN h2, both sides' certificates checked by the proxy's {@code PeerVerifier} (PKIX path, usage, one SPIFFE
 * ID in the trust domain). The contexts come from {@link TlsState#start}, i.e. {@code TlsMaterial.load} and
 * {@code TlsContexts.build}, exactly as a sidecar builds them from its PEM files. Every call makes new engines
 * with no peer host/port, so no session is looked up and nothing resumes; {@link #setUp} checks that the
 * client's certificate crossed the wire (a resumed TLS 1.3 handshake sends none). The server's
 * NewSessionTicket is written and read too, as on a real connection. Not included: the per-service identity
 * check the outbound side makes after the handshake, {@code SslHandler}, sockets and the kernel.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class HandshakeBenchmark {
    private static final String CLIENT_ID = "spiffe://cluster.local/ns/bench/sa/client";
    private static final String SERVER_ID = "spiffe://cluster.local/ns/bench/sa/backend";
    private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);
    private static final int MAX_ROUNDS = 32;

    @Param({"OPENSSL", "JDK"})
    TlsConfig.TlsProvider provider;

    private Path dir;
    private TlsState clientState;
    private TlsState serverState;
    private SslContext client;
    private SslContext server;
    /** Records in flight, client → server and server → client; application data lands in {@code app}. */
    private final ByteBuffer c2s = ByteBuffer.allocateDirect(64 * 1024);
    private final ByteBuffer s2c = ByteBuffer.allocateDirect(64 * 1024);
    private final ByteBuffer app = ByteBuffer.allocateDirect(64 * 1024);
    /** Bytes each way during the last {@link #handshake} (set-up checks only). */
    private long sentByClient;
    private long sentByServer;
    /** The engine whose wrap or unwrap threw during the last {@link #handshake} (set-up checks only). */
    private SSLEngine failed;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("outrider-handshake-bench");
        BenchPki pki = new BenchPki();
        X509Certificate clientLeaf = pki.issue(CLIENT_ID, dir.resolve("client"));
        pki.issue(SERVER_ID, dir.resolve("backend"));
        // A client from another root that trusts both roots: only the server's check can refuse it.
        BenchPki other = new BenchPki();
        other.issue(CLIENT_ID, dir.resolve("rogue"));
        Files.writeString(dir.resolve("rogue").resolve("ca-bundle.pem"), other.rootPem() + pki.rootPem());
        clientState = start("client", CLIENT_ID);
        serverState = start("backend", SERVER_ID);
        client = clientState.current().client();
        server = serverState.current().server();
        checkFullMutualHandshake(clientLeaf);
        checkServerRefusesUnknownRoot();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        clientState.close();
        serverState.close();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Benchmark
    public String fullHandshake() throws SSLException {
        SSLEngine c = client.newEngine(ByteBufAllocator.DEFAULT);
        SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
        try {
            handshake(c, s);
            return c.getApplicationProtocol();
        } finally {
            free(c);
            free(s);
        }
    }

    private TlsState start(String name, String id) throws Exception {
        Path d = dir.resolve(name);
        TlsConfig config = new TlsConfig(TlsConfig.TlsMode.MTLS, d.resolve("cert.pem"), d.resolve("key.pem"),
                d.resolve("ca-bundle.pem"), TlsConfig.TlsVersion.TLS_1_3, provider, Duration.ofSeconds(10),
                Duration.ofHours(1), Duration.ofHours(1));
        return TlsState.start(config, SpiffeId.parse(id), new SimpleMeterRegistry());
    }

    /** Drives both engines until neither has anything left to say. Single thread; runs delegated tasks inline. */
    private void handshake(SSLEngine c, SSLEngine s) throws SSLException {
        c.setUseClientMode(true);
        s.setUseClientMode(false);
        c.beginHandshake();
        s.beginHandshake();
        c2s.clear();
        s2c.clear();
        sentByClient = 0;
        sentByServer = 0;
        for (int round = 0; round < MAX_ROUNDS; round++) {
            int fromClient = wrap(c, c2s);
            int fromServer = wrap(s, s2c);
            sentByClient += fromClient;
            sentByServer += fromServer;
            boolean consumed = unwrap(s, c2s) | unwrap(c, s2c);
            if (fromClient == 0 && fromServer == 0 && !consumed && finished(c) && finished(s)) {
                return;
            }
        }
        throw new IllegalStateException("handshake did not finish in " + MAX_ROUNDS + " rounds: client "
                + c.getHandshakeStatus() + ", server " + s.getHandshakeStatus());
    }

    private int wrap(SSLEngine engine, ByteBuffer out) throws SSLException {
        int produced = 0;
        while (true) {
            SSLEngineResult r;
            try {
                r = engine.wrap(EMPTY, out);
            } catch (SSLException e) {
                failed = engine;
                throw e;
            }
            runTasks(engine, r);
            produced += r.bytesProduced();
            if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesProduced() == 0
                    || engine.getHandshakeStatus() != SSLEngineResult.HandshakeStatus.NEED_WRAP) {
                return produced;
            }
        }
    }

    /** Reads what {@code in} holds (written, not yet flipped); keeps a partial record for the next round. */
    private boolean unwrap(SSLEngine engine, ByteBuffer in) throws SSLException {
        in.flip();
        boolean consumed = false;
        try {
            while (in.hasRemaining()) {
                app.clear();
                SSLEngineResult r;
                try {
                    r = engine.unwrap(in, app);
                } catch (SSLException e) {
                    failed = engine;
                    throw e;
                }
                runTasks(engine, r);
                consumed |= r.bytesConsumed() > 0;
                if (r.getStatus() != SSLEngineResult.Status.OK || r.bytesConsumed() == 0) {
                    break;
                }
            }
        } finally {
            in.compact();
        }
        return consumed;
    }

    private static void runTasks(SSLEngine engine, SSLEngineResult r) {
        if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            for (Runnable task; (task = engine.getDelegatedTask()) != null; ) {
                task.run();
            }
        }
    }

    private static boolean finished(SSLEngine engine) {
        return engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING;
    }

    /** BoringSSL engines hold native memory until released; JDK engines are plain objects. */
    private static void free(SSLEngine engine) {
        if (engine instanceof ReferenceCounted rc && rc.refCnt() > 0) {
            rc.release();
        }
    }

    /** The measured thing is what it claims: TLS 1.3, ALPN h2, client certificate sent and seen, no resumption. */
    private void checkFullMutualHandshake(X509Certificate clientLeaf) throws Exception {
        for (int i = 0; i < 2; i++) { // the second handshake would be the one to resume, if anything did
            SSLEngine c = client.newEngine(ByteBufAllocator.DEFAULT);
            SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
            try {
                handshake(c, s);
                SSLSession session = s.getSession();
                require("TLSv1.3".equals(session.getProtocol()), "protocol " + session.getProtocol());
                require(ApplicationProtocolNames.HTTP_2.equals(c.getApplicationProtocol()),
                        "ALPN " + c.getApplicationProtocol());
                require(clientLeaf.equals(session.getPeerCertificates()[0]), "server did not see the client's leaf");
                int leafBytes = clientLeaf.getEncoded().length;
                require(sentByClient > leafBytes, "client sent " + sentByClient + " bytes, less than its "
                        + leafBytes + "-byte certificate: not a full mutual handshake");
                require(sentByServer > leafBytes, "server sent only " + sentByServer + " bytes");
            } finally {
                free(c);
                free(s);
            }
        }
    }

    /**
     * The proxy's verifier runs in the server's handshake: a client whose certificate comes from another root
     * (same trust domain, and it trusts the server) is refused by the server, as untrusted.
     */
    private void checkServerRefusesUnknownRoot() throws Exception {
        try (TlsState rogue = start("rogue", CLIENT_ID)) {
            SSLEngine c = rogue.current().client().newEngine(ByteBufAllocator.DEFAULT);
            SSLEngine s = server.newEngine(ByteBufAllocator.DEFAULT);
            failed = null;
            try {
                handshake(c, s);
                throw new IllegalStateException("a client certificate from an unknown root was accepted");
            } catch (SSLException fromHandshake) {
                SSLException fromServer = failed == s ? fromHandshake : deferredFailure(s);
                require(fromServer != null, "the client, not the server, ended the handshake: " + fromHandshake);
                HandshakeFailure reason = HandshakeFailure.of(fromServer);
                require(reason == HandshakeFailure.UNTRUSTED, "refused as " + reason + ": " + fromServer);
            } finally {
                free(c);
                free(s);
            }
        }
    }

    /**
     * BoringSSL sends its alert first and raises the failure on the engine's next call (SslHandler makes that
     * call on a real connection); the JDK throws at once.
     */
    private static SSLException deferredFailure(SSLEngine engine) {
        try {
            engine.wrap(EMPTY, ByteBuffer.allocateDirect(64 * 1024));
            return null;
        } catch (SSLException e) {
            return e;
        }
    }

    private static void require(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("HandshakeBenchmark set-up check failed: " + what);
        }
    }
}
