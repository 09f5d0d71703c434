package dev.outrider.controlplane.server;

/**
 * Who may call a route at all (docs/control-plane.md "Who may do what"). Routes check the finer rules
 * themselves (a workload reads only its own snapshot, registers only services that list it). A caller
 * without the needed proof gets 401; a proven caller that may not, 403.
 */
public enum Access {
    /** Anyone, proof or not: {@code GET /v1/health}, {@code GET /v1/snapshot-keys}. */
    PUBLIC,
    /** A workload certificate or an admin. */
    WORKLOAD,
    /** A bootstrap token (join or service-account), a workload certificate or an admin: {@code POST /v1/certificates}. */
    CERTIFICATE,
    /** Admins only. */
    ADMIN;

    /** Throws the 401 or 403 for {@code caller}, or returns when it may call a route of this access. */
    public void check(Caller caller) {
        switch (caller) {
            case Caller.Admin a -> {
            }
            case Caller.Anonymous a -> {
                if (this != PUBLIC) {
                    throw ApiException.unauthenticated(a.why());
                }
            }
            case Caller.Bearer b -> {
                if (this != PUBLIC && this != CERTIFICATE) {
                    throw ApiException.unauthenticated("bearer token refused: it is not the admin token"
                            + " (a " + b.credential().kind() + " is accepted only by POST /v1/certificates)");
                }
            }
            case Caller.Workload w -> {
                if (this == ADMIN) {
                    throw ApiException.forbidden(w.identity() + " is not an admin identity");
                }
            }
        }
    }
}
