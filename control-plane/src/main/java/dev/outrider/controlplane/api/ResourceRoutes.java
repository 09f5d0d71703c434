package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.controlplane.audit.AuditNote;
import dev.outrider.controlplane.audit.AuditedRoutes;
import dev.outrider.controlplane.model.MeshConfig;
import dev.outrider.controlplane.model.ResourceDocuments;
import dev.outrider.controlplane.model.SidecarSelection;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.controlplane.model.ValidatedResource;
import dev.outrider.controlplane.server.Access;
import dev.outrider.controlplane.server.ApiException;
import dev.outrider.controlplane.server.ApiRequest;
import dev.outrider.controlplane.server.ApiResponse;
import dev.outrider.controlplane.server.Json;
import dev.outrider.controlplane.server.Router;
import dev.outrider.controlplane.store.ConflictException;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoredResource;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static java.util.Objects.requireNonNull;

/**
 * The resources (docs/control-plane.md "Resources"), admin only, all on the worker executor (writes fsync):
 * <pre>
 *   PUT    /v1/namespaces/{ns}/{plural}/{name}   create 201 | replace 200; metadata.resourceVersion → 409 unless equal
 *   POST   /v1/namespaces/{ns}/{plural}          create 201 | 409 when it exists
 *   GET    /v1/namespaces/{ns}/{plural}/{name}   200 | 404
 *   GET    /v1/namespaces/{ns}/{plural}, /v1/{plural}   {"revision", "items"}
 *   DELETE /v1/namespaces/{ns}/{plural}/{name}[?resourceVersion=N]   200 {"deleted", "revision"} | 404 | 409
 *   GET, PUT /v1/meshconfig                      the mesh config (defaults when never written)
 * </pre>
 * A write is answered only after the store made it durable, and {@code onWrite} (the snapshot hub's
 * {@code storeChanged}) runs after every successful write. Every write request, refused or not, is recorded in the
 * audit trail ({@link AuditedRoutes}). Documents are read and validated by
 * {@link ResourceDocuments}; answers are the stored document with {@code metadata.resourceVersion}.
 */
public final class ResourceRoutes {
    private static final Logger log = LoggerFactory.getLogger(ResourceRoutes.class);
    private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,18}");
    /** Conditional writes tried in a row before a resource that keeps changing is given up on (409). */
    private static final int MAX_ATTEMPTS = 16;

    private final Store store;
    private final Runnable onWrite;

    public ResourceRoutes(Store store, Runnable onWrite) {
        this.store = requireNonNull(store, "store");
        this.onWrite = requireNonNull(onWrite, "onWrite");
    }

    /** The reads on {@code routes}; the writes through {@code audited}, so each one is recorded. */
    public void register(Router.Builder routes, AuditedRoutes audited) {
        audited.route(HttpMethod.PUT, "/v1/namespaces/{ns}/{plural}/{name}", Access.ADMIN, "apply",
                ResourceRoutes::fromUrl, this::put);
        audited.route(HttpMethod.POST, "/v1/namespaces/{ns}/{plural}", Access.ADMIN, "create",
                ResourceRoutes::fromUrl, this::create);
        routes.blocking(HttpMethod.GET, "/v1/namespaces/{ns}/{plural}/{name}", Access.ADMIN, this::get);
        routes.blocking(HttpMethod.GET, "/v1/namespaces/{ns}/{plural}", Access.ADMIN, this::listNamespace);
        audited.route(HttpMethod.DELETE, "/v1/namespaces/{ns}/{plural}/{name}", Access.ADMIN, "delete",
                ResourceRoutes::fromUrl, this::delete);
        routes.blocking(HttpMethod.GET, "/v1/{plural}", Access.ADMIN, this::listAll);
        routes.blocking(HttpMethod.GET, "/v1/meshconfig", Access.ADMIN, this::getMeshConfig);
        audited.route(HttpMethod.PUT, "/v1/meshconfig", Access.ADMIN, "apply",
                (request, note) -> note.target(MeshConfig.KEY), this::putMeshConfig);
    }

    /** The audit record's target as the URL names it (a plural no kind has: no kind; a bad name: as given, cut). */
    private static void fromUrl(ApiRequest request, AuditNote note) {
        note.target(ResourceKind.byPlural(request.param("plural")).map(ResourceKind::kind).orElse(null),
                printable(request.param("ns")), request.params().containsKey("name")
                        ? printable(request.param("name")) : null);
    }

    ApiResponse put(ApiRequest request, AuditNote note) {
        ResourceKind kind = kind(request.param("plural"));
        return StoreErrors.call(() -> write(ResourceDocuments.parse(kind, request.param("ns"), request.param("name"),
                request.body(), request.contentType()), request, note));
    }

    ApiResponse putMeshConfig(ApiRequest request, AuditNote note) {
        return StoreErrors.call(() -> write(ResourceDocuments.parse(ResourceKind.MESH_CONFIG, null, null,
                request.body(), request.contentType()), request, note));
    }

    /**
     * With an expected version: replace that version (200) or 409. Without: create when absent (201), else replace
     * (200), whatever version is stored; decided by the store itself, with a conditional write on the version just
     * seen (a create that conflicts becomes a replace of the version it names, and so on), so concurrent writers get
     * the right status and the audit record names the exact version each write replaced.
     */
    private ApiResponse write(ValidatedResource resource, ApiRequest request, AuditNote note) {
        note.target(resource.key());
        checkAgainstStore(resource);
        if (resource.expectedVersion() != Store.ANY_VERSION) {
            StoredResource stored = store.put(resource.key(), resource.json(), resource.expectedVersion());
            return written(request, note.action("replace").before(resource.expectedVersion()), stored, false);
        }
        long seen = Store.MUST_NOT_EXIST;
        for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
            try {
                StoredResource stored = store.put(resource.key(), resource.json(), seen);
                boolean created = seen == Store.MUST_NOT_EXIST;
                return written(request, note.action(created ? "create" : "replace").before(seen), stored, created);
            } catch (ConflictException changed) {
                seen = changed.actualVersion();
            }
        }
        throw ApiException.conflict(resource.key() + " changed " + MAX_ATTEMPTS + " times while this write was"
                + " made; retry");
    }

    ApiResponse create(ApiRequest request, AuditNote note) {
        ResourceKind kind = kind(request.param("plural"));
        return StoreErrors.call(() -> {
            ValidatedResource resource = ResourceDocuments.parse(kind, request.param("ns"), null, request.body(),
                    request.contentType());
            note.target(resource.key());
            checkAgainstStore(resource);
            StoredResource stored;
            try {
                stored = store.put(resource.key(), resource.json(), Store.MUST_NOT_EXIST);
            } catch (ConflictException e) {
                throw ApiException.conflict(resource.key() + " already exists (at version " + e.actualVersion()
                        + "); PUT replaces it");
            }
            return written(request, note, stored, true);
        });
    }

    /**
     * What a document alone cannot show: a Sidecar must not apply to a workload another Sidecar of its namespace
     * applies to (checked against what is stored now; {@link SidecarSelection} says which one wins after a race).
     */
    private void checkAgainstStore(ValidatedResource resource) {
        if (resource.key().kind().equals(ResourceKind.SIDECAR.kind())) {
            SidecarSelection.requireNoOverlap(resource, store.list(resource.key().kind(), resource.key().namespace()));
        }
    }

    ApiResponse get(ApiRequest request) {
        ResourceKey key = key(kind(request.param("plural")), request.param("ns"), request.param("name"));
        StoredResource stored = StoreErrors.call(() -> store.get(key))
                .orElseThrow(() -> ApiException.notFound(key + " not found"));
        return ApiResponse.jsonBytes(HttpResponseStatus.OK, ResourceDocuments.render(stored));
    }

    ApiResponse listNamespace(ApiRequest request) {
        ResourceKind kind = kind(request.param("plural"));
        return list(kind, label(request.param("ns"), "namespace"));
    }

    ApiResponse listAll(ApiRequest request) {
        return list(kind(request.param("plural")), null);
    }

    /** {@code {"revision": "N", "items": [...]}}; the revision is read after the items, so it covers them all. */
    private ApiResponse list(ResourceKind kind, String namespaceOrNull) {
        return StoreErrors.call(() -> {
            List<StoredResource> items = store.list(kind.kind(), namespaceOrNull);
            long revision = store.revision();
            ObjectNode body = Json.MAPPER.createObjectNode().put("revision", Long.toString(revision));
            ArrayNode array = body.putArray("items");
            for (StoredResource item : items) {
                array.add(tree(ResourceDocuments.render(item)));
            }
            return ApiResponse.json(HttpResponseStatus.OK, body);
        });
    }

    /**
     * Reads the resource, then deletes that version (so the audit record names what was deleted); without an expected
     * version a resource replaced in between is read again.
     */
    ApiResponse delete(ApiRequest request, AuditNote note) {
        ResourceKey key = key(kind(request.param("plural")), request.param("ns"), request.param("name"));
        note.target(key);
        long expected = expectedVersion(request.queryParam("resourceVersion"));
        return StoreErrors.call(() -> {
            for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
                StoredResource current = store.get(key).orElseThrow(() -> ApiException.notFound(key + " not found"));
                if (expected != Store.ANY_VERSION && expected != current.resourceVersion()) {
                    throw ConflictException.of(key, expected, current.resourceVersion());
                }
                boolean deleted;
                try {
                    deleted = store.delete(key, current.resourceVersion());
                } catch (ConflictException changed) {
                    if (expected != Store.ANY_VERSION) {
                        throw changed;
                    }
                    continue;
                }
                if (deleted) {
                    return deleted(request, note.deleted(current), key);
                }
            }
            throw ApiException.conflict(key + " changed " + MAX_ATTEMPTS + " times while it was deleted; retry");
        });
    }

    private ApiResponse deleted(ApiRequest request, AuditNote note, ResourceKey key) {
        long revision = store.revision();
        onWrite.run();
        log.info("{} deleted by {} (revision {})", key, request.caller().describe(), revision);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("deleted", key.toString());
        body.put("revision", Long.toString(revision));
        return ApiResponse.json(HttpResponseStatus.OK, body);
    }

    ApiResponse getMeshConfig(ApiRequest request) {
        return StoreErrors.call(() -> ApiResponse.jsonBytes(HttpResponseStatus.OK, store.get(MeshConfig.KEY)
                .map(ResourceDocuments::render)
                .orElseGet(MeshConfig.DEFAULTS::toDocument)));
    }

    private ApiResponse written(ApiRequest request, AuditNote note, StoredResource stored, boolean created) {
        note.written(stored);
        onWrite.run();
        log.info("{} {} by {} (version {})", stored.key(), created ? "created" : "replaced",
                request.caller().describe(), stored.resourceVersion());
        return ApiResponse.jsonBytes(created ? HttpResponseStatus.CREATED : HttpResponseStatus.OK,
                ResourceDocuments.render(stored));
    }

    /** The kind a URL's plural names; 404 for anything else (the MeshConfig has its own URL). */
    private static ResourceKind kind(String plural) {
        return ResourceKind.byPlural(plural).orElseThrow(() -> ApiException.notFound("unknown resource type '"
                + printable(plural) + "'; one of " + Arrays.stream(ResourceKind.values())
                .filter(ResourceKind::namespaced).map(ResourceKind::plural).collect(Collectors.joining(", "))));
    }

    private static ResourceKey key(ResourceKind kind, String namespace, String name) {
        return new ResourceKey(kind.kind(), label(namespace, "namespace"), label(name, "name"));
    }

    private static String label(String value, String what) {
        if (!dev.outrider.core.model.DnsLabel.isValid(value)) {
            throw ApiException.invalid("the " + what + " in the URL, '" + printable(value)
                    + "', is not an RFC 1123 label");
        }
        return value;
    }

    /** The {@code resourceVersion} query parameter of a DELETE; {@link Store#ANY_VERSION} when absent. */
    private static long expectedVersion(String text) {
        if (text == null) {
            return Store.ANY_VERSION;
        }
        if (!VERSION.matcher(text).matches()) {
            throw ApiException.invalid("resourceVersion", "resourceVersion '" + printable(text)
                    + "' is not a resourceVersion (a positive decimal number)");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ApiException.invalid("resourceVersion", "resourceVersion " + text + " is too large");
        }
    }

    private static com.fasterxml.jackson.databind.JsonNode tree(byte[] json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("a rendered document is always JSON", e);
        }
    }

    private static String printable(String text) {
        String cut = text.length() > 60 ? text.substring(0, 60) + "..." : text;
        return cut.replaceAll("[^\\x20-\\x7e]", "?");
    }
}
