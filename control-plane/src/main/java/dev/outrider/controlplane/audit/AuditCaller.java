package dev.outrider.controlplane.audit;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import dev.outrider.controlplane.server.Caller;

import static java.util.Objects.requireNonNull;

/**
 * Who made an audited request, as the record shows it: an identity or the kind of proof, never a credential (no
 * token, not even a hash of one, no certificate).
 *
 * @param type       {@code admin}, {@code workload}, {@code bearer} (a join or service-account token where only an
 *                   admin may go) or {@code anonymous} (no proof, or one that was refused)
 * @param identity   the SPIFFE ID the client certificate proved, or null
 * @param credential {@code client certificate}, {@code admin token}, {@code join token},
 *                   {@code service-account token}, or null for an anonymous caller
 * @param source     the peer's address, {@code host:port}; for an anonymous caller the only trace of who it was
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"type", "identity", "credential", "source"})
public record AuditCaller(String type, String identity, String credential, String source) {
    public AuditCaller {
        requireNonNull(type, "type");
    }

    static AuditCaller of(Caller caller, String sourceOrNull) {
        return switch (caller) {
            case Caller.Admin a -> a.byToken()
                    ? new AuditCaller("admin", a.certificateIdentity() == null ? null
                    : a.certificateIdentity().toString(), Caller.Admin.TOKEN, sourceOrNull)
                    : new AuditCaller("admin", a.proof(), "client certificate", sourceOrNull);
            case Caller.Workload w -> new AuditCaller("workload", w.identity().toString(), "client certificate",
                    sourceOrNull);
            case Caller.Bearer b -> new AuditCaller("bearer", null, b.credential().kind(), sourceOrNull);
            case Caller.Anonymous a -> new AuditCaller("anonymous", null, null, sourceOrNull);
        };
    }
}
