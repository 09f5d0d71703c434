package dev.outrider.controlplane.audit;

import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.StoredResource;
import dev.outrider.core.model.ResourceKind;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

import static java.util.Objects.requireNonNull;

/**
 * What an audited route learns about the change it makes, filled in as it goes (the target from the URL, then from
 * the document; the versions and content once the store answered), and turned into an {@link AuditRecord} with the
 * answer by {@link AuditedRoutes}. Whatever the route has filled in when it refuses is what the record shows.
 *
 * <p>Threading: confined to the worker thread that runs the request.
 */
public final class AuditNote {
    private String action;
    private String kind;
    private String namespace;
    private String name;
    private long before;
    private long after;
    private String sha256;

    AuditNote(String action) {
        this.action = requireNonNull(action, "action");
    }

    /** What the change turned out to be ({@code create} or {@code replace} for a PUT). */
    public AuditNote action(String action) {
        this.action = requireNonNull(action, "action");
        return this;
    }

    /** The resource the request is about, as far as known: null parts stay unknown. */
    public AuditNote target(String kind, String namespace, String name) {
        this.kind = kind;
        this.namespace = namespace;
        this.name = name;
        return this;
    }

    /** The resource at {@code key}; the store's namespace of a kind without one (the MeshConfig) is left out. */
    public AuditNote target(ResourceKey key) {
        boolean namespaced = ResourceKind.byKind(key.kind()).map(ResourceKind::namespaced).orElse(true);
        return target(key.kind(), namespaced ? key.namespace() : null, key.name());
    }

    /** The version the change replaces or deletes; 0 for none. */
    public AuditNote before(long version) {
        this.before = version;
        return this;
    }

    /** What the store now holds: its version and the SHA-256 of its document. */
    public AuditNote written(StoredResource stored) {
        this.after = stored.resourceVersion();
        this.sha256 = sha256(stored.document());
        return this;
    }

    /** What a delete removed: its version and the SHA-256 of its document. */
    public AuditNote deleted(StoredResource previous) {
        this.before = previous.resourceVersion();
        this.sha256 = sha256(previous.document());
        return this;
    }

    AuditRecord record(String time, AuditCaller caller, int status, String reason, String error) {
        return new AuditRecord(time, caller, action, kind, namespace, name, version(before), version(after), sha256,
                status, reason, error);
    }

    private static String version(long v) {
        return v > 0 ? Long.toString(v) : null;
    }

    private static String sha256(byte[] document) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(document));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
