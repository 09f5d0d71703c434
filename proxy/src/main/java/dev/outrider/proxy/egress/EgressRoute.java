package dev.outrider.proxy.egress;

import dev.outrider.proxy.authz.CompiledPolicies;
import dev.outrider.proxy.forward.Route;

import static java.util.Objects.requireNonNull;

/**
 * Where one declared external host and port goes, and who may call it.
 *
 * @param entry   {@code namespace/name} of the ServiceEntry, for messages
 * @param route   the external cluster (plaintext, or TLS the sidecar originates)
 * @param callers the AuthorizationPolicies targeting the entry, compiled; with none, every caller is allowed
 */
record EgressRoute(String entry, Route route, CompiledPolicies callers) {
    EgressRoute {
        requireNonNull(entry, "entry");
        requireNonNull(route, "route");
        requireNonNull(callers, "callers");
    }
}
