package dev.outrider.controlplane.api;

import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.server.ApiException;
import dev.outrider.controlplane.server.Caller;

/** The workload identity a sidecar route acts for. */
final class Callers {
    private Callers() {
    }

    /**
     * The identity of the caller's client certificate: a workload's, or an admin's that is also a workload
     * identity. An admin token proves none (403); an unauthenticated caller never gets here (the route's
     * {@code Access} refused it), but is refused again all the same (401).
     */
    static WorkloadIdentity workload(Caller caller, String action) {
        return switch (caller) {
            case Caller.Workload w -> w.identity();
            case Caller.Admin a -> {
                if (a.certificateIdentity() == null) {
                    throw ApiException.forbidden(action + " needs a workload's client certificate;"
                            + " the admin token proves no workload identity");
                }
                yield a.certificateIdentity();
            }
            case Caller.Anonymous a -> throw ApiException.unauthenticated(a.why());
            case Caller.Bearer b -> throw ApiException.unauthenticated("a " + b.credential().kind()
                    + " is accepted only by POST /v1/certificates");
        };
    }
}
