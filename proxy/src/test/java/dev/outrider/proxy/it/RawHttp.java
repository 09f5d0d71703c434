package dev.outrider.proxy.it;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * Raw bytes over a plain socket (or over TLS, {@link #overTls}), for request shapes no well-behaved client
 * would send (smuggling attempts, bare LF, obs-fold, request targets no client library lets through). Every
 * read has a timeout, so a test cannot hang.
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

    /** A new connection to {@code address} with a completed TLS handshake (client side of {@code tls}). */
    static RawHttp overTls(InetSocketAddress address, SSLContext tls) throws IOException {
        Socket tcp = connect(address);
        try {
            // Without it the request waits behind the client's last handshake flight for the server's delayed ACK
            // (Nagle's algorithm): some 40 ms per connection.
            tcp.setTcpNoDelay(true);
            SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(tcp, address.getHostString(),
                    address.getPort(), true);
            s.setUseClientMode(true);
            s.setSoTimeout(5_000);
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

    void send(String text) throws IOException {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.ISO_8859_1));
        socket.getOutputStream().flush();
    }

    /** Half-closes: the sidecar reads the end of the stream (FIN) and can still answer. */
    void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Reads up to and including the blank line that ends a response head; returns it. */
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

    /**
     * Reads everything until the peer closes; returns it. Fails when the peer keeps the connection open
     * beyond the socket timeout.
     */
    String readToEof() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                all.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection stayed open; read so far: " + all, e);
        }
        return all.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads exactly {@code n} bytes. */
    String readBytes(int n) throws IOException {
        return new String(in.readNBytes(n), StandardCharsets.ISO_8859_1);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
