package dev.outrider.controlplane.audit;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import static java.util.Objects.requireNonNull;

/**
 * One entry of the audit trail (docs/control-plane.md "Audit trail"): one attempted change through the API, whatever
 * its answer, written as one JSON object on one line. Never holds a secret: the caller is an identity or a kind of
 * proof ({@link AuditCaller}), the content is a SHA-256 of the stored document, and a join token appears only as
 * the identity it is for.
 *
 * @param time                  when the answer was decided (RFC 3339, UTC, microseconds at most)
 * @param action                {@code create}, {@code replace}, {@code delete}; {@code apply} for a PUT refused before
 *                              it was known which of the first two it would be
 * @param kind                  the resource kind, or null when the URL named no known one
 * @param namespace             null for the MeshConfig and when not known (a refused POST whose body was not read)
 * @param name                  null when not known
 * @param resourceVersionBefore the version the change replaced or deleted; null for a create or when not known
 * @param resourceVersionAfter  the version the change wrote; null for a delete or a refusal
 * @param sha256                hex SHA-256 of the document as stored (written, or deleted), without
 *                              {@code metadata.resourceVersion}; null when nothing was stored or read
 * @param status                the HTTP status of the answer
 * @param reason                the error body's reason ({@code Conflict}, ...), null on success
 * @param error                 the error message (at most 300 characters), null on success
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"time", "caller", "action", "kind", "namespace", "name", "resourceVersionBefore",
        "resourceVersionAfter", "sha256", "status", "reason", "error"})
public record AuditRecord(String time, AuditCaller caller, String action, String kind, String namespace, String name,
                          String resourceVersionBefore, String resourceVersionAfter, String sha256, int status,
                          String reason, String error) {
    public AuditRecord {
        requireNonNull(time, "time");
        requireNonNull(caller, "caller");
        requireNonNull(action, "action");
    }
}
