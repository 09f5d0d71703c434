package dev.outrider.tools.explain;

import dev.outrider.proxy.config.EscapedSlashes;
import dev.outrider.proxy.config.PathParameters;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.policy.AuthorizationPolicy;
import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.policy.PolicyException;
import dev.outrider.core.policy.RateLimitPolicy;
import dev.outrider.proxy.ratelimit.RateLimiter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import dev.outrider.proxy.authz.AuthorizationEngine;
import dev.outrider.proxy.authz.CompiledPolicies;
import dev.outrider.proxy.authz.Decision;
import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.proxy.authz.RequestAttributes;
import dev.outrider.proxy.http.RequestPathPolicy;
import dev.outrider.tools.cli.ExitCodes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code outrider explain}: what the inbound sidecar of a workload would decide for one request, given
 * policy documents — the same parser, path normalization and decision function the sidecar runs — and
 * which policy and rule decided it. For checking a policy before it is applied, and for answering "why
 * was this request denied?".
 */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = "Explain the authorization decision for a request against policy documents.")
public class ExplainCommand implements Callable<Integer> {
    @Option(names = "--policies", split = ",", paramLabel = "PATH",
            description = "Policy documents: YAML/JSON files or directories (comma-separated or repeated).")
    private List<Path> policies;

    @Option(names = "--workload", required = true, paramLabel = "SERVICE",
            description = "The receiving workload's service (its app label).")
    private String workload;

    @Option(names = "--namespace", required = true, description = "The receiving workload's namespace.")
    private String namespace;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "More labels of the receiving workload.")
    private Map<String, String> labels = new LinkedHashMap<>();

    @Option(names = "--root-namespace", defaultValue = "outrider-system",
            description = "Policies in this namespace apply mesh-wide (default: ${DEFAULT-VALUE}).")
    private String rootNamespace;

    @Option(names = "--default", defaultValue = "deny", paramLabel = "deny|allow",
            description = "Mesh default when no ALLOW policy applies (default: ${DEFAULT-VALUE}).")
    private String defaultAction;

    @Option(names = "--escaped-slashes", defaultValue = "reject", paramLabel = "reject|decode|keep",
            description = "As the sidecar's policies.escapedSlashes (default: ${DEFAULT-VALUE}).")
    private String escapedSlashes;

    @Option(names = "--path-parameters", defaultValue = "reject", paramLabel = "reject|strip",
            description = "As the sidecar's policies.pathParameters (default: ${DEFAULT-VALUE}).")
    private String pathParameters;

    @Option(names = "--source", paramLabel = "SPIFFE_ID",
            description = "The caller's identity, e.g. spiffe://cluster.local/ns/shop/sa/frontend.")
    private String source;

    @Option(names = "--source-ip", paramLabel = "IP", description = "The caller's address (a literal).")
    private String sourceIp;

    @Option(names = "--claims", paramLabel = "JSON",
            description = "Claims of the caller's verified JWT, e.g. '{\"iss\":\"https://idp\",\"sub\":\"alice\"}'.")
    private String claims;

    @Option(names = "--method", defaultValue = "GET", description = "Request method (default: ${DEFAULT-VALUE}).")
    private String method;

    @Option(names = "--host", description = "Host or :authority (default: the workload's service name).")
    private String host;

    @Option(names = "--port", defaultValue = "8080", description = "Destination port (default: ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = "--path", defaultValue = "/", description = "Request target as sent (default: ${DEFAULT-VALUE}).")
    private String path;

    @Option(names = "--header", paramLabel = "NAME=VALUE", description = "A request header (repeatable).")
    private Map<String, String> headers = new LinkedHashMap<>();

    @Spec
    private CommandSpec spec;

    /** The receiving workload's service name ({@code --workload}). */
    String workload() {
        return workload;
    }

    /** The receiving workload's namespace ({@code --namespace}). */
    String namespace() {
        return namespace;
    }

    /**
     * The policy documents to decide with: here the files and directories of {@code --policies};
     * {@code outrider ctl explain} takes the control plane's snapshot for the workload instead.
     */
    List<PolicyDocument> documents(PrintWriter out) throws java.io.IOException {
        if (policies == null || policies.isEmpty()) {
            throw new IllegalArgumentException("--policies is required (files or directories of policy documents)");
        }
        List<PolicyDocument> all = new ArrayList<>();
        for (Path p : policies) {
            all.addAll(Files.isDirectory(p) ? PolicyDocuments.loadDirectory(p)
                    : PolicyDocuments.parse(Files.readString(p), p.getFileName().toString()));
        }
        return all;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<AuthorizationPolicy> authz = new ArrayList<>();
        List<RateLimitPolicy> rateLimits = new ArrayList<>();
        try {
            for (PolicyDocument d : documents(out)) {
                if (d instanceof AuthorizationPolicy a) {
                    authz.add(a);
                } else if (d instanceof RateLimitPolicy r) {
                    rateLimits.add(r);
                }
            }
        } catch (PolicyException | UncheckedIOException | java.io.IOException | IllegalArgumentException e) {
            err.println("outrider explain: " + e.getMessage());
            return ExitCodes.USAGE;
        } catch (RuntimeException e) {
            err.println("outrider explain: " + e.getMessage());
            return ExitCodes.FAILURE;
        }
        DefaultAction fallback;
        try {
            fallback = DefaultAction.valueOf(defaultAction.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            err.println("outrider explain: --default: expected deny or allow, got '" + defaultAction + "'");
            return ExitCodes.USAGE;
        }
        Map<String, String> workloadLabels = new LinkedHashMap<>(labels);
        workloadLabels.putIfAbsent("app", workload);
        CompiledPolicies compiled;
        try {
            compiled = CompiledPolicies.compile(authz, workloadLabels, namespace, rootNamespace, fallback);
        } catch (IllegalArgumentException e) {
            err.println("outrider explain: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        Request request;
        try {
            request = request();
        } catch (IllegalArgumentException e) {
            err.println("outrider explain: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        out.println("policies:  " + authz.size() + " AuthorizationPolicy document(s), " + compiled.ruleCount()
                + " rule(s) apply to " + workload + "." + namespace);
        EscapedSlashes slashes;
        try {
            slashes = EscapedSlashes.valueOf(escapedSlashes.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            err.println("outrider explain: --escaped-slashes: expected reject, decode or keep, got '"
                    + escapedSlashes + "'");
            return ExitCodes.USAGE;
        }
        PathParameters parameters;
        try {
            parameters = PathParameters.valueOf(pathParameters.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            err.println("outrider explain: --path-parameters: expected reject or strip, got '" + pathParameters + "'");
            return ExitCodes.USAGE;
        }
        String rules = "escapedSlashes: " + slashes.name().toLowerCase(Locale.ROOT)
                + ", pathParameters: " + parameters.name().toLowerCase(Locale.ROOT);
        RequestPathPolicy.Result normalized = RequestPathPolicy.normalizeForAuthorization(path,
                new RequestPathPolicy.Rules(slashes, parameters));
        if (normalized instanceof RequestPathPolicy.Rejected rejected) {
            out.println("path:      " + path + " -> refused before authorization: " + rejected.reason()
                    + " (" + rules + ")");
            out.println("decision:  400 (bad request)");
            return ExitCodes.OK;
        }
        request.path = ((RequestPathPolicy.Ok) normalized).path();
        if (!request.path.equals(path)) {
            out.println("path:      " + path + " -> " + request.path + " (normalized as matched and forwarded; "
                    + rules + ")");
        }
        out.println("request:   " + method + " " + request.host + request.path + " (port " + port + ")"
                + (request.sourcePrincipal == null ? "" : " from " + request.sourcePrincipal)
                + (request.requestPrincipal == null ? "" : ", request principal " + request.requestPrincipal));
        Decision d = AuthorizationEngine.authorize(compiled, request);
        out.println("decision:  " + (d.allowed() ? "ALLOW" : "DENY (403)"));
        out.println("reason:    " + d.reason());
        if (d.policy() != null) {
            out.println("decided by: policy " + d.policy() + (d.rule() >= 0 ? ", rule " + d.rule() : ""));
        }
        if (d.audited()) {
            out.println("audit:     policy " + d.auditPolicy() + ", rule " + d.auditRule());
        }
        if (d.shadow() != null && d.shadow() != d) {
            out.println("dry-run:   would be " + (d.shadow().allowed() ? "ALLOW" : "DENY") + " (" + d.shadow().reason()
                    + ")");
        }
        explainRateLimits(out, rateLimits, workloadLabels, request, d.allowed());
        return ExitCodes.OK;
    }

    /**
     * The RateLimitPolicy rules that apply to the workload and match the request, as the sidecar compiles them
     * (after authorization: a denied request never reaches them).
     */
    private void explainRateLimits(PrintWriter out, List<RateLimitPolicy> documents, Map<String, String> labels,
                                   Request request, boolean allowed) {
        List<RateLimitPolicy> applying = documents.stream()
                .filter(p -> (p.metadata().namespace().equals(namespace) || p.metadata().namespace().equals(rootNamespace))
                        && p.selector().selects(labels))
                .toList();
        if (applying.isEmpty()) {
            return;
        }
        if (!allowed) {
            out.println("rate limits: not reached (denied before them)");
            return;
        }
        try (RateLimiter limiter = new RateLimiter(100, Duration.ZERO, System::nanoTime, new SimpleMeterRegistry())) {
            List<String> matching = limiter.compile(applying).explain(request);
            out.println("rate limits: " + (matching.isEmpty() ? "no rule matches" : matching.size() + " rule(s) match,"
                    + " each must admit the request"));
            for (String line : matching) {
                out.println("  " + line);
            }
        }
    }

    private Request request() {
        Request r = new Request();
        r.method = method;
        r.host = host == null ? workload + "." + namespace : host;
        r.port = port;
        if (source != null) {
            SpiffeId id = SpiffeId.parse(source.startsWith("spiffe://") ? source : "spiffe://" + source);
            r.sourcePrincipal = id.principal();
            r.sourceNamespace = id.namespace();
        }
        if (sourceIp != null) {
            if (!sourceIp.matches("[0-9a-fA-F:.]+")) {
                throw new IllegalArgumentException("--source-ip: '" + sourceIp + "' is not an IP address literal");
            }
            try {
                r.sourceIp = InetAddress.getByName(sourceIp).getAddress();
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException("--source-ip: '" + sourceIp + "' is not an IP address literal");
            }
        }
        for (Map.Entry<String, String> h : headers.entrySet()) {
            r.headers.put(h.getKey().toLowerCase(Locale.ROOT), h.getValue());
        }
        if (claims != null) {
            Map<String, Object> c;
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> parsed = new ObjectMapper().readValue(claims, Map.class);
                c = parsed;
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException("--claims: not a JSON object: " + e.getOriginalMessage());
            }
            r.claims = c;
            Object iss = c.get("iss");
            Object sub = c.get("sub");
            if (iss != null && sub != null) {
                r.requestPrincipal = iss + "/" + sub;
            }
            Object aud = c.get("aud");
            if (aud instanceof List<?> l) {
                l.forEach(a -> r.audiences.add(String.valueOf(a)));
            } else if (aud != null) {
                r.audiences.add(String.valueOf(aud));
            }
        }
        return r;
    }

    /** The explained request: plain fields, filled once. */
    private static final class Request implements RequestAttributes {
        String sourcePrincipal;
        String sourceNamespace;
        byte[] sourceIp;
        String requestPrincipal;
        Map<String, Object> claims;
        final List<String> audiences = new ArrayList<>();
        String method;
        String host;
        int port;
        String path;
        final Map<String, String> headers = new LinkedHashMap<>();

        @Override
        public String sourcePrincipal() {
            return sourcePrincipal;
        }

        @Override
        public String sourceNamespace() {
            return sourceNamespace;
        }

        @Override
        public byte[] sourceIp() {
            return sourceIp;
        }

        @Override
        public String sourceAddress() {
            try {
                return sourceIp == null ? null : InetAddress.getByAddress(sourceIp).getHostAddress();
            } catch (java.net.UnknownHostException e) {
                throw new IllegalStateException(e); // 4 or 16 bytes from InetAddress itself
            }
        }

        @Override
        public String requestPrincipal() {
            return requestPrincipal;
        }

        @Override
        public Object claim(String[] path) {
            Object v = claims;
            for (String p : path) {
                if (!(v instanceof Map<?, ?> m)) {
                    return null;
                }
                v = m.get(p);
            }
            return v == claims ? null : v;
        }

        @Override
        public List<String> audiences() {
            return audiences;
        }

        @Override
        public String method() {
            return method;
        }

        @Override
        public String host() {
            return host;
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public String path() {
            return path;
        }

        @Override
        public String header(CharSequence lowerCaseName) {
            return headers.get(lowerCaseName.toString());
        }
    }
}
