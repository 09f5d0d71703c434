package dev.outrider.controlplane.api;

import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.server.Access;
import dev.outrider.controlplane.server.ApiException;
import dev.outrider.controlplane.server.ApiRequest;
import dev.outrider.controlplane.server.ApiResponse;
import dev.outrider.controlplane.server.Caller;
import dev.outrider.controlplane.server.Router;
import dev.outrider.controlplane.snapshot.IssuedSnapshot;
import dev.outrider.controlplane.sidecars.SidecarStatuses;
import dev.outrider.controlplane.snapshot.SnapshotHub;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * {@code GET /v1/snapshots/{ns}/{sa}?after=N&wait=S} (docs/control-plane.md "Snapshots"), for that workload's
 * certificate or an admin: 200 with the JWS ({@code application/jose}, {@code Outrider-Snapshot-Version}) as
 * soon as a version newer than {@code after} exists, else 304 after {@code wait} seconds (0..60, default 30).
 * A sidecar's poll may carry its ACK of the version it enforces ({@code &instance=I&ack=V}), recorded as
 * {@code POST /v1/sidecars/status} would (only when it is news: every poll repeats it); every 200 and 304 says so in
 * {@value #ACKS_ON_POLL_HEADER}, so a sidecar posts its ACKs only to a control plane that does not take them here.
 * With its ACK a sidecar may report the plaintext connections its inbound listener accepted since it started
 * ({@code &plaintext=N}), shown in {@code GET /v1/sidecars}; a control plane older than that ignores the parameter.
 *
 * <p>Runs on the event loop and never blocks it: {@link SnapshotHub#next} only parks a callback. The answer
 * completes on the hub thread or one of its signing threads (several at once when a change reaches many
 * workloads); the mapping below only wraps the JWS, and {@code ApiHandler} hands the response to the
 * connection's event loop, so no completing thread waits on a socket. When the connection
 * closes, the server cancels the answer, and the cancellation is passed on to the hub's future so the parked
 * callback goes at once rather than at its timeout.
 */
public final class SnapshotRoutes {
    public static final String VERSION_HEADER = "Outrider-Snapshot-Version";
    public static final String JOSE = "application/jose";
    /** The one name, shared with the client that reads it. */
    public static final String ACKS_ON_POLL_HEADER = ControlPlaneClient.ACKS_ON_POLL_HEADER;
    static final int MAX_WAIT_SECONDS = 60;
    static final int DEFAULT_WAIT_SECONDS = 30;
    private static final Pattern NUMBER = Pattern.compile("[0-9]{1,18}");

    private final SnapshotHub hub;
    private final SidecarStatuses statuses;
    private final String trustDomain;

    public SnapshotRoutes(SnapshotHub hub, SidecarStatuses statuses, String trustDomain) {
        this.hub = requireNonNull(hub, "hub");
        this.statuses = requireNonNull(statuses, "statuses");
        this.trustDomain = requireNonNull(trustDomain, "trustDomain");
    }

    public void register(Router.Builder routes) {
        routes.route(HttpMethod.GET, "/v1/snapshots/{ns}/{sa}", Access.WORKLOAD, this::next);
    }

    CompletableFuture<ApiResponse> next(ApiRequest request) {
        WorkloadIdentity workload = workload(request);
        authorize(request.caller(), workload);
        long after = number(request.queryParam("after"), "after", 0, Long.MAX_VALUE);
        long wait = number(request.queryParam("wait"), "wait", DEFAULT_WAIT_SECONDS, MAX_WAIT_SECONDS);
        acknowledged(request, workload);
        CompletableFuture<Optional<IssuedSnapshot>> source = hub.next(workload, after, Duration.ofSeconds(wait));
        CompletableFuture<ApiResponse> answer = source.handle((snapshot, failure) -> {
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException c && c.getCause() != null ? c.getCause() : failure;
                if (cause instanceof IllegalStateException) {
                    throw ApiException.unavailable("the control plane is shutting down");
                }
                throw new CompletionException(cause);
            }
            return snapshot.map(SnapshotRoutes::response).orElseGet(() -> new ApiResponse(
                    HttpResponseStatus.NOT_MODIFIED, null, new byte[0], Map.of(ACKS_ON_POLL_HEADER, "1")));
        });
        answer.whenComplete((r, e) -> {
            if (answer.isCancelled()) {
                source.cancel(false);
            }
        });
        return answer;
    }

    private static ApiResponse response(IssuedSnapshot snapshot) {
        return new ApiResponse(HttpResponseStatus.OK, JOSE, snapshot.jws().getBytes(StandardCharsets.US_ASCII),
                Map.of(VERSION_HEADER, Long.toString(snapshot.version()), ACKS_ON_POLL_HEADER, "1"));
    }

    /**
     * The ACK the poll carries, if any: both {@code instance} and {@code ack}, from the workload's own sidecar; and
     * with it, optionally, its plaintext count ({@code plaintext}).
     */
    private void acknowledged(ApiRequest request, WorkloadIdentity workload) {
        String instance = request.queryParam("instance");
        String ack = request.queryParam("ack");
        String plaintext = request.queryParam("plaintext");
        if (instance == null && ack == null) {
            if (plaintext != null) {
                throw ApiException.invalid("plaintext", "a plaintext count rides with an ACK: it needs 'instance'"
                        + " and 'ack' too");
            }
            return;
        }
        if (instance == null || ack == null) {
            String missing = instance == null ? "instance" : "ack";
            throw ApiException.invalid(missing, "an ACK on a poll needs both 'instance' and 'ack'; '" + missing
                    + "' is missing");
        }
        long version = number(ack, "ack", 0, Long.MAX_VALUE);
        long plaintextConnections = number(plaintext, "plaintext", -1, Long.MAX_VALUE);
        WorkloadIdentity reporter = Callers.workload(request.caller(), "an ACK on a snapshot poll");
        if (!reporter.equals(workload)) {
            throw ApiException.forbidden(reporter + " may acknowledge only its own snapshots, not " + workload + "'s");
        }
        try {
            statuses.acknowledged(reporter, instance, version, plaintextConnections);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("instance", String.valueOf(e.getMessage()));
        }
    }

    private WorkloadIdentity workload(ApiRequest request) {
        String namespace = request.param("ns");
        String serviceAccount = request.param("sa");
        if (!DnsLabel.isValid(namespace) || !DnsLabel.isValid(serviceAccount)) {
            throw ApiException.invalid("namespace and service account in the URL must be RFC 1123 labels");
        }
        return new WorkloadIdentity(trustDomain, namespace, serviceAccount);
    }

    /** A workload reads its own snapshot only; an admin reads any. */
    private static void authorize(Caller caller, WorkloadIdentity workload) {
        if (caller instanceof Caller.Workload w && !w.identity().equals(workload)) {
            throw ApiException.forbidden(w.identity() + " may read only its own snapshot, not " + workload + "'s");
        }
    }

    private static long number(String text, String field, long absent, long max) {
        if (text == null) {
            return absent;
        }
        if (!NUMBER.matcher(text).matches() || Long.parseLong(text) > max) {
            throw ApiException.invalid(field, field + " must be a whole number from 0 to " + max + ", not '"
                    + (text.length() > 20 ? text.substring(0, 20) + "..." : text) + "'");
        }
        return Long.parseLong(text);
    }
}
