package dev.outrider.proxy.control;

import dev.outrider.core.policy.PolicyDocument;
import dev.outrider.core.snapshot.VerifiedSnapshot;
import dev.outrider.core.snapshot.WorkloadSnapshot;
import dev.outrider.proxy.outbound.OutboundRouter;
import dev.outrider.proxy.outbound.OutboundRoutes;
import dev.outrider.proxy.outbound.RouteTableBuilder;
import dev.outrider.proxy.policy.PolicyMetrics;
import dev.outrider.proxy.policy.PolicySnapshot;
import dev.outrider.proxy.policy.PolicyStore;
import dev.outrider.proxy.policy.WorkloadPolicyCompiler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Applies a verified control-plane snapshot to the running sidecar: its policies compiled for this workload
 * (same compiler as a policy directory) swapped into the {@link PolicyStore}, and its endpoints into the
 * outbound routes. Everything is compiled first and published only when all of it compiled, so a snapshot
 * is applied whole or not at all; a failure throws with the document and field at fault (the client reports
 * it to the control plane as a NACK) and what is in force stays.
 *
 * <p>Threading: called by the control-plane client's one watch thread (never an event loop); requests read
 * the store and routes concurrently and see the old or the new version.
 */
public final class SnapshotApplication {
    private static final Logger log = LoggerFactory.getLogger(SnapshotApplication.class);

    private final WorkloadPolicyCompiler compiler;
    private final PolicyStore store;
    private final PolicyMetrics metrics;
    private final RouteTableBuilder routeBuilder;
    private final OutboundRoutes routes;

    public SnapshotApplication(WorkloadPolicyCompiler compiler, PolicyStore store, PolicyMetrics metrics,
                               RouteTableBuilder routeBuilder, OutboundRoutes routes) {
        this.compiler = requireNonNull(compiler, "compiler");
        this.store = requireNonNull(store, "store");
        this.metrics = requireNonNull(metrics, "metrics");
        this.routeBuilder = requireNonNull(routeBuilder, "routeBuilder");
        this.routes = requireNonNull(routes, "routes");
    }

    /**
     * Compiles and publishes {@code verified}: its policies as the verifier parsed them (never parsed again here).
     *
     * @param origin where it came from, for logs and {@code /config} ("control plane", "last-known-good")
     * @throws RuntimeException naming the document and field when the policies do not compile; nothing changed
     */
    public void apply(VerifiedSnapshot verified, String origin) {
        WorkloadSnapshot snapshot = requireNonNull(verified, "verified").snapshot();
        PolicySnapshot next;
        OutboundRouter table;
        try {
            // the Redis of global rate limits first: it does not depend on the policies, and their rules use it
            compiler.rateLimiter().controlPlaneRedis(snapshot.rateLimitRedis());
            List<PolicyDocument> documents = verified.policies();
            java.util.Set<String> foreign = compiler.foreignNamespaces(documents);
            if (!foreign.isEmpty()) {
                // The control plane sends the workload's namespace and its root namespace only.
                log.warn("snapshot {} carries policies of namespace(s) {}, neither this workload's nor "
                        + "policies.rootNamespace: they do not apply here; set policies.rootNamespace to the "
                        + "control plane's MeshConfig rootNamespace", snapshot.version(), foreign);
            }
            next = compiler.compile(snapshot.version(), origin + " (snapshot " + snapshot.version() + ")", documents);
            table = routeBuilder.build(snapshot.endpoints());
        } catch (RuntimeException e) {
            metrics.reloadRefused();
            log.error("policies: refused snapshot {} from the {}: {}; keeping version {}", snapshot.version(), origin,
                    e.getMessage(), store.current().version());
            throw e;
        }
        PolicySnapshot previous = store.apply(next);
        routes.replace(table);
        metrics.retain(next);
        metrics.reloadApplied();
        log.info("policies: applied snapshot {} from the {} (was {}): {} document(s), {} authorization and {} "
                        + "rate-limit rule(s) for this workload, {} endpoint(s)", next.version(), origin,
                previous.version(), next.documents(), next.authorization().ruleCount(),
                next.rateLimits().ruleCount(), snapshot.endpoints().size());
    }
}
