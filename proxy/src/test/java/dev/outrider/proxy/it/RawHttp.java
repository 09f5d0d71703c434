package dev.outrider.proxy.it;

import dev.outrider.proxy.tls.TestPki;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;

/**
 * A blocking socket for byte-level tests, plain ({@code new RawHttp(address)}) or mTLS ({@link #mtls},
 * {@link #overTls}): request shapes no well-behaved client would send (smuggling attempts, bare LF, obs-fold,
 * request targets no client library lets through), slow or half-sent header blocks, raw HTTP/2 frames,
 * connections held open. Every read has a timeout, so a test cannot hang.
 */
final class RawHttp implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;

    RawHttp(InetSocketAddress address) throws IOException {
        this(connect(address));
    }

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(5_000);
        in = socket.getInputStream();
    }

    /**
     * A new connection to {@code address} with a completed TLS 1.3 handshake, the JDK's TLS client presenting
     * {@code leaf} and accepting any server certificate, offering the given ALPN protocols (none: the server
     * falls back to HTTP/1.1). Throws when the handshake fails.
     */
    static RawHttp mtls(InetSocketAddress address, TestPki.Leaf leaf, String... alpn) throws IOException {
        SSLContext tls;
        try {
            tls = TlsTestClient.jdkSocketContext(leaf);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no TLS 1.3 client context", e);
        }
        return overTls(address, tls, alpn);
    }

    /**
     * A new connection to {@code address} with a completed TLS 1.3 handshake (client side of {@code tls}, for a
     * context shared by many connections), offering the given ALPN protocols (none: no ALPN extension).
     */
    static RawHttp overTls(InetSocketAddress address, SSLContext tls, String... alpn) throws IOException {
        Socket tcp = connect(address);
        try {
            // Without it the request waits behind the client's last handshake flight for the server's delayed ACK
            // (Nagle's algorithm): some 40 ms per connection.
            tcp.setTcpNoDelay(true);
            SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(tcp, address.getHostString(),
                    address.getPort(), true);
            s.setUseClientMode(true);
            s.setSoTimeout(5_000);
            SSLParameters params = s.getSSLParameters();
            params.setProtocols(new String[] {"TLSv1.3"});
            if (alpn.length > 0) {
                params.setApplicationProtocols(alpn);
            }
            s.setSSLParameters(params);
            s.startHandshake();
            return new RawHttp(s);
        } catch (IOException | RuntimeException e) {
            tcp.close();
            throw e;
        }
    }

    private static Socket connect(InetSocketAddress address) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(address, 5_000);
            socket.setSoTimeout(5_000);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** The protocol ALPN agreed on; null on a plain connection, "" when TLS negotiated none. */
    String applicationProtocol() {
        return socket instanceof SSLSocket tls ? tls.getApplicationProtocol() : null;
    }

    void send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Half-closes (over TLS 1.3: close_notify, then FIN): the sidecar reads the end and can still answer. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Reads up to and including the blank line that ends a response head; returns it; throws at EOF. */
    String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed inside a response head: " + head);
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    static int status(String head) {
        return Integer.parseInt(head.substring(9, 12));
    }

    /** The Content-Length of a response head; 0 without one. */
    static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                return Integer.parseInt(line.substring(15).strip());
            }
        }
        return 0;
    }

    /**
     * Reads everything until the peer closes; returns it. Fails when the peer keeps the connection open
     * beyond the socket timeout; a reset is an error too.
     */
    String readToEof() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        try {
            readInto(all);
        } catch (SocketTimeoutException e) {
            throw stayedOpen(all, e);
        }
        return all.toString(StandardCharsets.ISO_8859_1);
    }

    /**
     * Reads everything until the peer closes (EOF, or a reset after its last bytes: what was read is the
     * answer); returns the bytes. For peers that close a connection the test may still be writing on, and for
     * raw HTTP/2 frames. Fails when the peer keeps the connection open beyond the socket timeout.
     */
    byte[] readToEofOrReset() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        try {
            readInto(all);
        } catch (SocketTimeoutException e) {
            throw stayedOpen(all, e);
        } catch (IOException e) {
            // a reset after the server's last bytes: what was read is the answer
        }
        return all.toByteArray();
    }

    private void readInto(ByteArrayOutputStream all) throws IOException {
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) >= 0) {
            all.write(buf, 0, n);
        }
    }

    private static AssertionError stayedOpen(ByteArrayOutputStream all, SocketTimeoutException e) {
        return new AssertionError("the connection stayed open; read so far: "
                + all.toString(StandardCharsets.ISO_8859_1), e);
    }

    /** Reads exactly {@code n} bytes (fewer at EOF). */
    String readBytes(int n) throws IOException {
        return new String(in.readNBytes(n), StandardCharsets.ISO_8859_1);
    }

    /**
     * Sends a keep-alive GET and reads its response: true when an HTTP response came back, false when the
     * server closed the connection instead.
     */
    boolean served() {
        try {
            send("GET /limits HTTP/1.1\r\nHost: orders\r\n\r\n");
            String head = readHead();
            readBytes(contentLength(head));
            return head.startsWith("HTTP/1.1 ");
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
