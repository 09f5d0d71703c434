package dev.outrider.controlplane.server;

import io.netty.handler.codec.http.HttpMethod;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import static java.util.Objects.requireNonNull;

/**
 * The API's route table: method + path pattern ({@code /v1/namespaces/{ns}/{plural}/{name}}, a segment is a
 * literal or a {@code {parameter}}) → {@link Access} and handler. Among the patterns that match a path the
 * one with the most literal segments wins ({@code /v1/meshconfig} before {@code /v1/{plural}}); a path no
 * pattern matches is 404, a path matched only under other methods 405 (with {@code Allow}).
 *
 * <p>Immutable once built; matching is a scan of a few dozen routes per request, which costs nothing next to
 * the TLS and JSON work of the same request.
 */
public final class Router {
    /**
     * One entry of the table.
     *
     * @param answersRefusals the handler checks {@code access} itself, so it also sees (and answers) the callers it
     *                        refuses ({@link Builder#blockingWithRefusals}); otherwise the connection's handler
     *                        refuses them before the route runs
     */
    public record Route(HttpMethod method, List<String> pattern, Access access, RouteHandler handler,
                        boolean answersRefusals) {
        public Route {
            requireNonNull(method, "method");
            pattern = List.copyOf(pattern);
            requireNonNull(access, "access");
            requireNonNull(handler, "handler");
        }

        int literals() {
            int n = 0;
            for (String segment : pattern) {
                if (!isParameter(segment)) {
                    n++;
                }
            }
            return n;
        }

        /** The parameters when {@code segments} fit the pattern, else null. */
        Map<String, String> bind(List<String> segments) {
            if (segments.size() != pattern.size()) {
                return null;
            }
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 0; i < segments.size(); i++) {
                String p = pattern.get(i);
                String s = segments.get(i);
                if (isParameter(p)) {
                    if (s.isEmpty()) {
                        return null;
                    }
                    params.put(p.substring(1, p.length() - 1), s);
                } else if (!p.equals(s)) {
                    return null;
                }
            }
            return params;
        }

        @Override
        public String toString() {
            return method + " /" + String.join("/", pattern);
        }
    }

    /** A route and the parameters it bound. */
    public record Match(Route route, Map<String, String> params) {
    }

    private final List<Route> routes;

    private Router(List<Route> routes) {
        this.routes = List.copyOf(routes);
    }

    /** @param worker runs {@link RouteHandler.BlockingHandler}s (bounded; a full queue answers 503) */
    public static Builder builder(Executor worker) {
        return new Builder(worker);
    }

    /** Finds the route for {@code method} and the decoded path {@code segments} (without the leading empty one). */
    public Match match(HttpMethod method, List<String> segments) {
        Match best = null;
        Set<String> allowed = new LinkedHashSet<>();
        for (Route route : routes) {
            Map<String, String> params = route.bind(segments);
            if (params == null) {
                continue;
            }
            if (!route.method().equals(method)) {
                allowed.add(route.method().name());
                continue;
            }
            if (best == null || route.literals() > best.route().literals()) {
                best = new Match(route, params);
            }
        }
        if (best != null) {
            return best;
        }
        String path = "/" + String.join("/", segments);
        if (!allowed.isEmpty()) {
            throw ApiException.methodNotAllowed(method + " is not allowed on " + path, String.join(", ", allowed));
        }
        throw ApiException.notFound("no route for " + method + " " + path);
    }

    public List<Route> routes() {
        return routes;
    }

    static boolean isParameter(String segment) {
        return segment.length() > 2 && segment.startsWith("{") && segment.endsWith("}");
    }

    /** Collects routes; not thread-safe, used once at start-up. */
    public static final class Builder {
        private final Executor worker;
        private final List<Route> routes = new ArrayList<>();

        private Builder(Executor worker) {
            this.worker = requireNonNull(worker, "worker");
        }

        /** A route answered on the event loop (cheap, or completing later without a thread). */
        public Builder route(HttpMethod method, String pattern, Access access, RouteHandler handler) {
            return add(method, pattern, access, handler, false);
        }

        private Builder add(HttpMethod method, String pattern, Access access, RouteHandler handler,
                            boolean answersRefusals) {
            requireNonNull(pattern, "pattern");
            if (!pattern.startsWith("/")) {
                throw new IllegalArgumentException("pattern must start with '/': " + pattern);
            }
            Route route = new Route(method, List.of(pattern.substring(1).split("/", -1)), access, handler,
                    answersRefusals);
            for (Route existing : routes) {
                if (existing.method().equals(method) && existing.pattern().equals(route.pattern())) {
                    throw new IllegalArgumentException("duplicate route " + route);
                }
            }
            routes.add(route);
            return this;
        }

        /** A route whose handler blocks: it runs on the worker executor; the answer goes back on the event loop. */
        public Builder blocking(HttpMethod method, String pattern, Access access, RouteHandler.BlockingHandler handler) {
            requireNonNull(handler, "handler");
            return route(method, pattern, access, onWorker(handler));
        }

        /**
         * A blocking route that also answers the callers {@code access} refuses: every request, whoever sent it, goes
         * to {@code handler} on the worker executor, which must call {@link Access#check} itself. So what a handler
         * does around each request (the audit trail records every attempted change) covers the 401s and 403s too.
         */
        public Builder blockingWithRefusals(HttpMethod method, String pattern, Access access,
                                            RouteHandler.BlockingHandler handler) {
            requireNonNull(handler, "handler");
            return add(method, pattern, access, onWorker(handler), true);
        }

        private RouteHandler onWorker(RouteHandler.BlockingHandler handler) {
            return request -> {
                try {
                    return CompletableFuture.supplyAsync(() -> handler.handle(request), worker);
                } catch (RejectedExecutionException e) {
                    throw ApiException.unavailable("the control plane is busy; retry later");
                }
            };
        }

        public Router build() {
            return new Router(routes);
        }
    }
}
