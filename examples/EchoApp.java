import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * A tiny HTTP/1.1 application for trying the sidecars: answers every request with a JSON echo of what
 * arrived (method, path, the headers a proxy sets or forwards, body length).
 *
 * <pre>java examples/EchoApp.java [port]     # default 8080, binds 127.0.0.1</pre>
 */
public final class EchoApp {
    private static final List<String> ECHOED = List.of("host", "x-request-id", "x-forwarded-for", "x-forwarded-proto",
            "x-forwarded-client-cert");

    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8080;
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", EchoApp::echo);
        server.start();
        System.err.println("EchoApp listening on http://127.0.0.1:" + port + "/");
    }

    private static void echo(HttpExchange exchange) throws IOException {
        long bodyLength;
        try (InputStream in = exchange.getRequestBody()) {
            bodyLength = in.transferTo(OutputStream.nullOutputStream());
        }
        StringBuilder json = new StringBuilder("{\"method\":").append(quote(exchange.getRequestMethod()))
                .append(",\"path\":").append(quote(exchange.getRequestURI().toString()))
                .append(",\"headers\":{");
        String separator = "";
        for (String name : ECHOED) {
            String value = exchange.getRequestHeaders().getFirst(name);
            if (value != null) {
                json.append(separator).append(quote(name)).append(':').append(quote(value));
                separator = ",";
            }
        }
        json.append("},\"bodyLength\":").append(bodyLength).append("}\n");
        byte[] body = json.toString().getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("content-type", "application/json");
        if (exchange.getRequestMethod().equals("HEAD")) {
            exchange.sendResponseHeaders(200, -1);
        } else {
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
        exchange.close();
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
