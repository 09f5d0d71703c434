package dev.outrider.proxy.it;

import dev.outrider.proxy.tls.TestPki;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslProvider;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A blocking mTLS socket to an inbound listener, for byte-level tests (slow or half-sent header blocks, raw
 * HTTP/2 frames, connections held open): the JDK's TLS client presenting {@code leaf}, offering the given ALPN
 * protocols (none: the server falls back to HTTP/1.1). Every read has a timeout, so a test cannot hang.
 */
final class MtlsSocket implements AutoCloseable {
    private final SSLSocket tls;
    private final InputStream in;

    private MtlsSocket(SSLSocket tls) throws IOException {
        this.tls = tls;
        this.in = tls.getInputStream();
    }

    /** Connects and completes the handshake; throws when the handshake fails. */
    static MtlsSocket connect(InetSocketAddress to, TestPki.Leaf leaf, String... alpn) throws IOException {
        JdkSslContext ssl = (JdkSslContext) TlsTestClient.context(SslProvider.JDK, leaf);
        Socket tcp = new Socket();
        try {
            tcp.connect(to, 5_000);
            tcp.setSoTimeout(5_000);
            SSLSocket tls = (SSLSocket) ssl.context().getSocketFactory()
                    .createSocket(tcp, to.getHostString(), to.getPort(), true);
            tls.setUseClientMode(true);
            if (alpn.length > 0) {
                SSLParameters params = tls.getSSLParameters();
                params.setApplicationProtocols(alpn);
                tls.setSSLParameters(params);
            }
            tls.startHandshake();
            return new MtlsSocket(tls);
        } catch (IOException | RuntimeException e) {
            tcp.close();
            throw e;
        }
    }

    void send(byte[] bytes) throws IOException {
        tls.getOutputStream().write(bytes);
        tls.getOutputStream().flush();
    }

    void send(String text) throws IOException {
        send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /**
     * Reads everything until the peer closes (EOF, or a reset after its last bytes); returns it. Fails when the
     * peer keeps the connection open beyond the socket timeout.
     */
    byte[] readToEof() throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            int n;
            while ((n = in.read(buf)) >= 0) {
                all.write(buf, 0, n);
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection stayed open; read so far: "
                    + all.toString(StandardCharsets.ISO_8859_1), e);
        } catch (IOException e) {
            // a reset after the server's last bytes: what was read is the answer
        }
        return all.toByteArray();
    }

    /** Reads one response head (up to the blank line) and returns it; throws at EOF. */
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

    /** Reads exactly {@code n} bytes. */
    byte[] readBytes(int n) throws IOException {
        return in.readNBytes(n);
    }

    /**
     * Sends a keep-alive GET and reads its response head: true when an HTTP response came back, false when the
     * server closed the connection instead.
     */
    boolean served() {
        try {
            send("GET /limits HTTP/1.1\r\nHost: orders\r\n\r\n");
            String head = readHead();
            int length = contentLength(head);
            readBytes(length);
            return head.startsWith("HTTP/1.1 ");
        } catch (IOException e) {
            return false;
        }
    }

    static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                return Integer.parseInt(line.substring(15).strip());
            }
        }
        return 0;
    }

    @Override
    public void close() throws IOException {
        tls.close();
    }
}
