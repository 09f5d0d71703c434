package dev.outrider.controlplane.audit;

import dev.outrider.controlplane.server.Access;
import dev.outrider.controlplane.server.ApiException;
import dev.outrider.controlplane.server.ApiRequest;
import dev.outrider.controlplane.server.ApiResponse;
import dev.outrider.controlplane.server.Router;
import io.netty.handler.codec.http.HttpMethod;

import static java.util.Objects.requireNonNull;

/**
 * Registers the routes that change configuration so that every request routed to one gives exactly one
 * {@link AuditRecord}, whatever the answer: on the worker executor ({@link Router.Builder#blockingWithRefusals}), the
 * record is begun from the URL, the caller's access is checked (a 401 or 403 is recorded like any other answer), the
 * route runs and fills in its {@link AuditNote}, and the record is written before the answer goes back.
 * <pre>
 *   worker:  note ← target(URL) → access.check(caller) → handler(request, note)
 *            → trail.record(note + answer) → answer
 * </pre>
 * Not recorded: requests no route matched (404, 405), requests refused before a worker took them (a full worker
 * queue, 503; a body over 1 MiB, 413; a request that could not be decoded). Unauthenticated refusals (401) are
 * recorded up to {@value #UNAUTHENTICATED_PER_SECOND} a second (bursts of {@value #UNAUTHENTICATED_BURST}): each
 * record is a durable write, and anyone who can reach the API can send them; how many were left out is logged
 * (WARN) with the next one recorded.
 */
public final class AuditedRoutes {
    /** Longest error message a record keeps. */
    static final int MAX_ERROR = 300;
    public static final int UNAUTHENTICATED_PER_SECOND = 10;
    public static final int UNAUTHENTICATED_BURST = 100;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(AuditedRoutes.class);

    /** An audited route's work: answers, or throws the {@link ApiException} to answer with. */
    @FunctionalInterface
    public interface Handler {
        ApiResponse handle(ApiRequest request, AuditNote note);
    }

    /** What the URL alone says about the target, before anything is checked; must not throw. */
    @FunctionalInterface
    public interface Target {
        void describe(ApiRequest request, AuditNote note);
    }

    private final Router.Builder routes;
    private final AuditTrail trail;
    /** Guarded by this: the token bucket of unauthenticated refusals, and those left out since the last logged. */
    private double unauthenticatedTokens = UNAUTHENTICATED_BURST;
    private long unauthenticatedRefilled = System.nanoTime();
    private long unauthenticatedLeftOut;

    public AuditedRoutes(Router.Builder routes, AuditTrail trail) {
        this.routes = requireNonNull(routes, "routes");
        this.trail = requireNonNull(trail, "trail");
    }

    /** @param action the record's action until the handler says more ({@link AuditNote#action}) */
    public AuditedRoutes route(HttpMethod method, String pattern, Access access, String action, Target target,
                               Handler handler) {
        requireNonNull(access, "access");
        requireNonNull(action, "action");
        requireNonNull(target, "target");
        requireNonNull(handler, "handler");
        routes.blockingWithRefusals(method, pattern, access, request -> answer(request, access, action, target,
                handler));
        return this;
    }

    private ApiResponse answer(ApiRequest request, Access access, String action, Target target, Handler handler) {
        AuditNote note = new AuditNote(action);
        target.describe(request, note);
        ApiResponse response;
        try {
            access.check(request.caller());
            response = handler.handle(request, note);
        } catch (ApiException refused) {
            if (refused.status().code() != 401 || admitUnauthenticated()) {
                trail.record(note.record(trail.now(), caller(request), refused.status().code(), refused.reason(),
                        cut(refused.getMessage())));
            }
            throw refused;
        } catch (RuntimeException e) {
            trail.record(note.record(trail.now(), caller(request), 500, "Internal", "internal error"));
            throw e;
        }
        trail.record(note.record(trail.now(), caller(request), response.status().code(), null, null));
        return response;
    }

    /** Whether an unauthenticated refusal is recorded: within the rate; logs how many were not, when one is again. */
    private boolean admitUnauthenticated() {
        long leftOut;
        synchronized (this) {
            long now = System.nanoTime();
            unauthenticatedTokens = Math.min(UNAUTHENTICATED_BURST, unauthenticatedTokens
                    + (now - unauthenticatedRefilled) / 1e9 * UNAUTHENTICATED_PER_SECOND);
            unauthenticatedRefilled = now;
            if (unauthenticatedTokens < 1) {
                unauthenticatedLeftOut++;
                return false;
            }
            unauthenticatedTokens -= 1;
            leftOut = unauthenticatedLeftOut;
            unauthenticatedLeftOut = 0;
        }
        if (leftOut > 0) {
            log.warn("audit: {} unauthenticated write attempts (401) were not recorded: more than {} a second",
                    leftOut, UNAUTHENTICATED_PER_SECOND);
        }
        return true;
    }

    private static AuditCaller caller(ApiRequest request) {
        return AuditCaller.of(request.caller(), request.source());
    }

    private static String cut(String message) {
        if (message == null) {
            return null;
        }
        return message.length() <= MAX_ERROR ? message : message.substring(0, MAX_ERROR - 3) + "...";
    }

    @Override
    public String toString() {
        return "AuditedRoutes[" + trail + "]";
    }
}
