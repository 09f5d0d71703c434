package dev.outrider.proxy.it;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A real servlet container on 127.0.0.1 (embedded Tomcat or Jetty, HTTP/1.1 on an ephemeral port) with three
 * recording servlets, standing in for the JVM application a sidecar fronts:
 * <ul>
 *   <li>{@code admin} mapped at {@code /admin} and {@code /admin/*},</li>
 *   <li>{@code public} mapped at {@code /public/*},</li>
 *   <li>{@code default} mapped at {@code /} (whatever else the container dispatches).</li>
 * </ul>
 * Each records what the container dispatched to it ({@link Dispatch}: request URI, servlet path, path info)
 * with the request's {@code X-Probe} header, and answers 200 {@code servlet=<name>}.
 *
 * <p>Both containers are made as lenient about paths as they can be (Tomcat decodes {@code %2F} and
 * {@code %5C} and accepts {@code \}; Jetty runs {@link UriCompliance#UNSAFE} and decodes ambiguous URIs), so
 * that no refusal of the container's own hides a path the sidecar should not have forwarded: what reaches a
 * servlet is what the sidecar alone let through.
 */
final class ServletContainer implements AutoCloseable {
    enum Kind { TOMCAT, JETTY }

    /** What the container dispatched to servlet {@code servlet} for the request marked {@code probe}. */
    record Dispatch(String probe, String servlet, String requestUri, String servletPath, String pathInfo) {
        @Override
        public String toString() {
            return servlet + " (requestURI=" + requestUri + ", servletPath=" + servletPath + ", pathInfo="
                    + pathInfo + ")";
        }
    }

    private final Queue<Dispatch> dispatched = new ConcurrentLinkedQueue<>();
    private final AutoCloseable stop;
    private final int port;

    private ServletContainer(Kind kind) throws Exception {
        switch (kind) {
            case TOMCAT -> {
                Tomcat tomcat = tomcat();
                stop = () -> {
                    tomcat.stop();
                    tomcat.destroy();
                };
                port = tomcat.getConnector().getLocalPort();
            }
            case JETTY -> {
                Server jetty = new Server();
                ServerConnector connector = jetty(jetty);
                stop = jetty::stop;
                port = connector.getLocalPort();
            }
            default -> throw new IllegalArgumentException(kind.name());
        }
    }

    static ServletContainer start(Kind kind) throws Exception {
        return new ServletContainer(kind);
    }

    int port() {
        return port;
    }

    /** Everything dispatched so far, in order. */
    List<Dispatch> dispatched() {
        return List.copyOf(dispatched);
    }

    /** What was dispatched for {@code probe}. */
    List<Dispatch> dispatched(String probe) {
        return dispatched.stream().filter(d -> probe.equals(d.probe())).toList();
    }

    private Tomcat tomcat() throws IOException, LifecycleException {
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("outrider-tomcat").toString());
        Connector connector = new Connector();
        connector.setPort(0);
        require(connector.setProperty("address", "127.0.0.1"), "address");
        connector.setEncodedSolidusHandling("decode");
        connector.setEncodedReverseSolidusHandling("decode");
        connector.setAllowBackslash(true);
        connector.setRejectSuspiciousURIs(false);
        tomcat.setConnector(connector);
        Context context = tomcat.addContext("", null);
        add(context, "admin", "/admin", "/admin/*");
        add(context, "public", "/public/*");
        add(context, "default", "/");
        tomcat.start();
        return tomcat;
    }

    private void add(Context context, String name, String... mappings) {
        Wrapper servlet = Tomcat.addServlet(context, name, new Recording(name, dispatched));
        for (String mapping : mappings) {
            servlet.addMapping(mapping);
        }
    }

    private ServerConnector jetty(Server server) throws Exception {
        HttpConfiguration http = new HttpConfiguration();
        http.setUriCompliance(UriCompliance.UNSAFE);
        http.setSendServerVersion(false);
        ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.getServletHandler().setDecodeAmbiguousURIs(true);
        add(context, "admin", "/admin", "/admin/*");
        add(context, "public", "/public/*");
        add(context, "default", "/");
        server.setHandler(context);
        server.start();
        return connector;
    }

    private void add(ServletContextHandler context, String name, String... mappings) {
        ServletHolder holder = new ServletHolder(name, new Recording(name, dispatched));
        for (String mapping : mappings) {
            context.addServlet(holder, mapping);
        }
    }

    private static void require(boolean set, String property) {
        if (!set) {
            throw new IllegalStateException("Tomcat connector property not set: " + property);
        }
    }

    @Override
    public void close() {
        try {
            stop.close();
        } catch (Exception e) {
            throw new IllegalStateException("the servlet container did not stop", e);
        }
    }

    /** Records what the container dispatched to it, then answers 200 {@code servlet=<name>}. */
    private static final class Recording extends HttpServlet {
        private final String name;
        private final transient Queue<Dispatch> dispatched;

        Recording(String name, Queue<Dispatch> dispatched) {
            this.name = name;
            this.dispatched = dispatched;
        }

        @Override
        protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
            dispatched.add(new Dispatch(request.getHeader("x-probe"), name, request.getRequestURI(),
                    request.getServletPath(), request.getPathInfo()));
            response.setStatus(200);
            response.setContentType("text/plain");
            response.getOutputStream().write(("servlet=" + name).getBytes(StandardCharsets.UTF_8));
        }
    }
}
