package dev.outrider.proxy.it;

import dev.outrider.proxy.tls.TestPki;
import io.netty.handler.codec.http2.Http2Headers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import javax.net.ssl.SSLContext;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real servlet container ({@link ServletContainer}: a servlet at {@code /admin} and {@code /admin/*}, one at
 * {@code /public/*}) behind sidecar B, whose policies DENY {@code /admin} and {@code /admin/*} to everyone and
 * ALLOW {@code /public/*} to the caller frontend (and, for requests marked {@code x-open: yes}, every path, so
 * that the DENY is also tested on its own). Every target of {@link AdminPathCorpus} goes in
 * <ul>
 *   <li>as raw HTTP/1.1 at A's outbound listener, and as h2c with prior knowledge there with an unvalidated
 *       {@code :path} (A → B is HTTP/2 over mTLS, so B normalizes an HTTP/2 {@code :path});</li>
 *   <li>as raw HTTP/1.1 over mTLS straight to B's inbound listener, with frontend's identity;</li>
 * </ul>
 * with B in each {@link Mode} of {@code policies.pathParameters} and {@code policies.escapedSlashes}. The
 * assertion is on what the container dispatched, never on status codes alone: the {@code admin} servlet is
 * never invoked, and every request that did reach it is listed in one failure (mode, transport, guard, target,
 * status, and the container's request URI, servlet path and path info). The control sends the corpus straight
 * to the container, which dispatches most of it to the admin servlet. One container and three pairs per
 * class; the modes run in parallel.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ServletContainerBehindSidecarCases {
    private static final String FRONTEND = TestPki.spiffe("cluster.local", "shop", "frontend");
    /** Probe prefix of the requests sent straight to the container, which do reach the admin servlet. */
    private static final String DIRECT = "direct-";

    /** B's path rules (bootstrap {@code policies:}); A gets the same section, which its outbound ignores. */
    enum Mode {
        DEFAULT(""),
        STRIP("pathParameters: strip"),
        STRIP_DECODE("pathParameters: strip, escapedSlashes: decode");

        final String yaml;

        Mode(String yaml) {
            this.yaml = yaml;
        }
    }

    /**
     * How a request reaches B, and under which guards the corpus goes that way. {@link Guard#DENY_ONLY} alone
     * finds every bypass {@link Guard#ALLOW_AND_DENY} could: B normalizes a path the same whatever the headers,
     * and forwards under ALLOW_AND_DENY a subset of what it forwards under DENY_ONLY. So the costly transport
     * (a TLS handshake per request) runs the corpus under DENY_ONLY only.
     */
    enum Transport {
        H1_VIA_A(Guard.values()),
        H2C_VIA_A(Guard.values()),
        H1_MTLS_TO_B(Guard.DENY_ONLY);

        final Guard[] guards;

        Transport(Guard... guards) {
            this.guards = guards;
        }
    }

    /** Which of B's policies stand between the caller and the application. */
    enum Guard {
        /** Only the DENY on /admin and the ALLOW on /public/*. */
        ALLOW_AND_DENY(""),
        /** {@code x-open: yes}: an ALLOW rule admits every path, so only the DENY stands. */
        DENY_ONLY("x-open: yes\r\n");

        final String header;

        Guard(String header) {
            this.header = header;
        }
    }

    /** One request and what came back: the status line (or why none came), and the body. */
    record Outcome(Mode mode, Transport transport, Guard guard, String target, String status, String body) {
        @Override
        public String toString() {
            return mode + " " + transport + " " + guard + " " + printable(target) + " -> " + status;
        }
    }

    private ServletContainer container;
    private final Map<Mode, SidecarPair> pairs = new EnumMap<>(Mode.class);
    private final Map<Mode, SSLContext> frontendTls = new EnumMap<>(Mode.class);
    private final AtomicInteger probes = new AtomicInteger();

    abstract ServletContainer.Kind kind();

    @BeforeAll
    void start() throws Exception {
        container = ServletContainer.start(kind());
        Path policies = Files.createTempDirectory("outrider-servlet-policies");
        Files.writeString(policies.resolve("orders.yaml"), """
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-admin, namespace: shop}
                spec:
                  action: DENY
                  rules:
                    - to: [{operation: {paths: ["/admin", "/admin/*"]}}]
                ---
                apiVersion: outrider.dev/v1
                kind: AuthorizationPolicy
                metadata: {name: allow-frontend, namespace: shop}
                spec:
                  action: ALLOW
                  rules:
                    - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                      to: [{operation: {paths: ["/public/*"]}}]
                    - from: [{source: {principals: ["cluster.local/ns/shop/sa/frontend"]}}]
                      when: [{key: "request.headers[x-open]", values: ["yes"]}]
                """);
        for (Mode mode : Mode.values()) {
            String rules = mode.yaml.isEmpty() ? "" : ", " + mode.yaml;
            SidecarPair pair = SidecarPair.start(container.port(), "http1",
                    "policies: {directory: '" + policies + "'" + rules + "}", "");
            pairs.put(mode, pair);
            frontendTls.put(mode, TlsTestClient.jdkSocketContext(pair.ca.leaf().spiffe(FRONTEND).issue()));
        }
    }

    @AfterAll
    void stop() {
        for (SidecarPair pair : pairs.values()) {
            pair.close();
        }
        if (container != null) {
            container.close();
        }
    }

    @Test
    void theAdminServletIsNeverInvokedForAnyTargetModeTransportOrGuard() throws Exception {
        Map<String, Outcome> sent = new HashMap<>();
        List<Future<Map<String, Outcome>>> perMode = new ArrayList<>();
        try (ExecutorService modes = Executors.newVirtualThreadPerTaskExecutor()) { // pairs are independent
            for (Mode mode : Mode.values()) {
                perMode.add(modes.submit(() -> {
                    Map<String, Outcome> outcomes = new HashMap<>();
                    for (Transport transport : Transport.values()) {
                        List<String> targets = transport == Transport.H2C_VIA_A ? AdminPathCorpus.originForm()
                                : AdminPathCorpus.all();
                        for (Guard guard : transport.guards) {
                            outcomes.putAll(sendAll(mode, transport, guard, targets));
                        }
                    }
                    return outcomes;
                }));
            }
            for (Future<Map<String, Outcome>> outcomes : perMode) {
                sent.putAll(outcomes.get());
            }
        }
        List<String> bypasses = new ArrayList<>();
        Set<String> reachedTheContainer = new TreeSet<>();
        for (ServletContainer.Dispatch d : container.dispatched()) {
            Outcome o = sent.get(d.probe());
            if (o != null) {
                reachedTheContainer.add(o.mode() + " " + o.transport());
            }
            if (d.servlet().equals("admin") && (d.probe() == null || !d.probe().startsWith(DIRECT))) {
                bypasses.add((o == null ? "probe " + d.probe() : o.toString()) + " dispatched to " + d);
            }
        }
        System.out.println(kind() + ": " + sent.size() + " requests; outcomes by mode, transport and status:\n"
                + summary(sent.values()));
        assertThat(sent).as("every request was sent").hasSizeGreaterThan(1200);
        assertThat(reachedTheContainer).as("corpus requests the container served, for every mode and transport")
                .hasSize(Mode.values().length * Transport.values().length);
        assertThat(bypasses).as(kind() + " dispatched these requests to the admin servlet").isEmpty();
    }

    /** The control: the corpus has teeth, i.e. the container itself resolves many of its targets to /admin. */
    @Test
    void withoutTheSidecarTheContainerDispatchesManyCorpusTargetsToTheAdminServlet() throws Exception {
        InetSocketAddress direct = new InetSocketAddress("127.0.0.1", container.port());
        List<String> reachedAdmin = new ArrayList<>();
        for (String target : AdminPathCorpus.all()) {
            String probe = probe(DIRECT);
            try (RawHttp raw = new RawHttp(direct)) {
                raw.send("GET " + target + " HTTP/1.1\r\nHost: orders\r\nX-Probe: " + probe
                        + "\r\nConnection: close\r\n\r\n");
                raw.readToEof();
            }
            if (container.dispatched(probe).stream().anyMatch(d -> d.servlet().equals("admin"))) {
                reachedAdmin.add(printable(target) + " -> " + container.dispatched(probe).getFirst());
            }
        }
        System.out.println(kind() + " on its own dispatches " + reachedAdmin.size() + " of "
                + AdminPathCorpus.all().size() + " corpus targets to the admin servlet:\n  "
                + String.join("\n  ", reachedAdmin));
        assertThat(reachedAdmin).anyMatch(s -> s.startsWith("/admin;jsessionid=1 "))
                .anyMatch(s -> s.startsWith("/public/..;v=1/admin "))
                .anyMatch(s -> s.startsWith("/%61dmin "))
                .anyMatch(s -> s.startsWith("/public/%2e%2e/admin "))
                .anyMatch(s -> s.startsWith("/admin%2Fx "));
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void aPublicPathReachesThePublicServletAsSentOnEveryTransport(Mode mode) throws Exception {
        for (Transport transport : Transport.values()) {
            assertDispatched(mode, transport, "/public/x", "/public/x", "/x");
            assertDispatched(mode, transport, "/public/a%20b/%61", "/public/a%20b/a", "/a b/a");
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void pathParametersAreRefusedByDefaultAndStrippedBeforeTheContainerWhenConfigured(Mode mode)
            throws Exception {
        for (Transport transport : Transport.values()) {
            if (mode == Mode.DEFAULT) {
                assertRefused(mode, transport, "/public/x;y=1", "path parameter (;) in path");
            } else {
                assertDispatched(mode, transport, "/public/x;y=1", "/public/x", "/x");
                assertDispatched(mode, transport, "/public;v=1/x;y=2/z", "/public/x/z", "/x/z");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void anEscapedSlashIsRefusedOrDecodedBeforeTheContainer(Mode mode) throws Exception {
        for (Transport transport : Transport.values()) {
            if (mode == Mode.STRIP_DECODE) {
                assertDispatched(mode, transport, "/public%2Fx", "/public/x", "/x");
            } else {
                assertRefused(mode, transport, "/public%2Fx", "encoded slash or backslash in path");
            }
        }
    }

    /** The two guards are what the corpus test says they are: x-open lets other paths through, not /admin. */
    @Test
    void theDenyStandsAloneWhenTheAllowAdmitsEveryPath() throws Exception {
        for (Transport transport : Transport.values()) {
            Outcome closed = send(Mode.DEFAULT, transport, Guard.ALLOW_AND_DENY, "/ADMIN", probe("guard-"));
            assertThat(closed.status()).as(closed.toString()).contains(" 403");
            String probe = probe("guard-");
            Outcome open = send(Mode.DEFAULT, transport, Guard.DENY_ONLY, "/ADMIN", probe);
            assertThat(open.status()).as(open.toString()).contains(" 200");
            assertThat(container.dispatched(probe)).singleElement().extracting(ServletContainer.Dispatch::servlet)
                    .isEqualTo("default");
            Outcome denied = send(Mode.DEFAULT, transport, Guard.DENY_ONLY, "/admin", probe("guard-"));
            assertThat(denied.status()).as(denied.toString()).contains(" 403");
        }
    }

    /** A fresh probe id (the {@code X-Probe} header the container records) starting with {@code prefix}. */
    private String probe(String prefix) {
        return prefix + probes.incrementAndGet();
    }

    private void assertDispatched(Mode mode, Transport transport, String target, String requestUri,
                                  String pathInfo) throws Exception {
        String probe = probe("positive-");
        Outcome outcome = send(mode, transport, Guard.ALLOW_AND_DENY, target, probe);
        assertThat(outcome.status()).as(outcome.toString()).contains(" 200");
        assertThat(container.dispatched(probe)).as(outcome.toString())
                .containsExactly(new ServletContainer.Dispatch(probe, "public", requestUri, "/public", pathInfo));
    }

    private void assertRefused(Mode mode, Transport transport, String target, String reason) throws Exception {
        String probe = probe("refused-");
        Outcome outcome = send(mode, transport, Guard.ALLOW_AND_DENY, target, probe);
        assertThat(outcome.status()).as(outcome.toString()).contains(" 400");
        assertThat(outcome.body()).as(outcome.toString()).contains(reason);
        assertThat(container.dispatched(probe)).as(outcome + ": nothing dispatched").isEmpty();
    }

    /** Sends every target; returns the outcomes by probe id. */
    private Map<String, Outcome> sendAll(Mode mode, Transport transport, Guard guard, List<String> targets)
            throws Exception {
        Map<String, Outcome> sent = new HashMap<>();
        if (transport == Transport.H2C_VIA_A) {
            try (H2Client client = new H2Client(pairs.get(mode).outbound())) {
                for (String target : targets) {
                    String probe = probe("corpus-");
                    sent.put(probe, h2c(client, mode, guard, target, probe));
                }
            }
            return sent;
        }
        for (String target : targets) {
            String probe = probe("corpus-");
            sent.put(probe, send(mode, transport, guard, target, probe));
        }
        return sent;
    }

    private Outcome send(Mode mode, Transport transport, Guard guard, String target, String probe)
            throws Exception {
        SidecarPair pair = pairs.get(mode);
        return switch (transport) {
            case H1_VIA_A -> h1(new RawHttp(pair.outbound()), mode, transport, guard, target, probe);
            case H1_MTLS_TO_B -> h1(RawHttp.overTls(pair.b.inboundAddress(), frontendTls.get(mode)), mode,
                    transport, guard, target, probe);
            case H2C_VIA_A -> {
                try (H2Client client = new H2Client(pair.outbound())) {
                    yield h2c(client, mode, guard, target, probe);
                }
            }
        };
    }

    private static Outcome h1(RawHttp connection, Mode mode, Transport transport, Guard guard, String target,
                              String probe) throws Exception {
        try (RawHttp raw = connection) {
            raw.send("GET " + target + " HTTP/1.1\r\nHost: orders\r\nX-Probe: " + probe + "\r\n" + guard.header
                    + "Connection: close\r\n\r\n");
            String response = raw.readToEof();
            int endOfLine = response.indexOf("\r\n");
            int endOfHead = response.indexOf("\r\n\r\n");
            return new Outcome(mode, transport, guard, target,
                    endOfLine < 0 ? "no response" : response.substring(0, endOfLine),
                    endOfHead < 0 ? "" : response.substring(endOfHead + 4));
        }
    }

    private static Outcome h2c(H2Client client, Mode mode, Guard guard, String target, String probe) {
        Http2Headers request = H2Client.get(target, "orders").set("x-probe", probe);
        if (guard == Guard.DENY_ONLY) {
            request.set("x-open", "yes");
        }
        try {
            H2Client.Response r = client.sendRaw(request).join();
            return new Outcome(mode, Transport.H2C_VIA_A, guard, target, "HTTP/2 " + r.status().code(), r.body());
        } catch (RuntimeException e) {
            return new Outcome(mode, Transport.H2C_VIA_A, guard, target, "no response: " + e, "");
        }
    }

    /** Counts of outcomes by mode, transport and status line. */
    private static String summary(java.util.Collection<Outcome> outcomes) {
        Map<String, Long> counts = outcomes.stream().collect(Collectors.groupingBy(
                o -> o.mode() + " " + o.transport() + " " + o.status().replaceAll("^(\\S+ \\d{3}).*$", "$1"),
                TreeMap::new, Collectors.counting()));
        return counts.entrySet().stream().map(e -> "  " + e.getKey() + ": " + e.getValue())
                .collect(Collectors.joining("\n"));
    }

    /** {@code target} with raw bytes, spaces and controls shown as {@code \xNN}. */
    static String printable(String target) {
        StringBuilder out = new StringBuilder();
        for (char c : target.toCharArray()) {
            if (c <= 0x20 || c >= 0x7F) {
                out.append("\\x").append(String.format("%02X", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
