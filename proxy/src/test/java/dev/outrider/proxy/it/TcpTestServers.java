package dev.outrider.proxy.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Plain-socket TCP servers on 127.0.0.1 for the TCP port tests, one virtual thread per connection:
 * <ul>
 *   <li>{@link #greeting}: speaks first (an SMTP-like {@code 220 ready}), then answers each line upper-cased;
 *       at the client's FIN it says {@code 221 bye} and closes (a server that speaks last).</li>
 *   <li>{@link #echo}: writes back every byte it reads, until the client's FIN, then closes.</li>
 * </ul>
 * {@link #accepted()} counts the connections that reached the server.
 */
final class TcpTestServers implements AutoCloseable {
    private final ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();

    private TcpTestServers(boolean greeting) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    Thread.ofVirtual().start(() -> serve(s, greeting));
                } catch (IOException e) {
                    return;
                }
            }
        });
    }

    static TcpTestServers greeting() throws IOException {
        return new TcpTestServers(true);
    }

    static TcpTestServers echo() throws IOException {
        return new TcpTestServers(false);
    }

    int port() {
        return server.getLocalPort();
    }

    int accepted() {
        return accepted.get();
    }

    private static void serve(Socket s, boolean greeting) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            if (!greeting) {
                in.transferTo(out);
                return;
            }
            out.write("220 ready\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            StringBuilder line = new StringBuilder();
            for (int b; (b = in.read()) >= 0; ) {
                if (b == '\n') {
                    out.write((line.toString().strip().toUpperCase(Locale.ROOT) + "\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    line.setLength(0);
                } else {
                    line.append((char) b);
                }
            }
            out.write("221 bye\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        } catch (IOException e) {
            // the client went away
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
