package dev.outrider.controlplane.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.model.ServiceName;
import dev.outrider.core.policy.PolicyDocuments;
import dev.outrider.core.policy.PolicyException;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoredResource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static dev.outrider.core.document.DocumentFields.quote;
import static java.util.Objects.requireNonNull;

/**
 * The API's resource documents: from a request body to a {@link ValidatedResource} ({@link #parse}), from a
 * stored resource to the JSON the API answers ({@link #render}), and from stored policies to the text a
 * snapshot carries ({@link #policyText}).
 *
 * <p>Policies (AuthorizationPolicy, RequestAuthentication, RateLimitPolicy) are validated by the sidecar's own
 * reader, {@link PolicyDocuments#parse}, on exactly the JSON that is stored and later sent in snapshots: a
 * document the API accepts is one every sidecar of the same version accepts. Service, Sidecar and MeshConfig are
 * validated here ({@link ServiceSpec}, {@link SidecarSpec}, {@link MeshConfig}). Every refusal is a
 * {@link ResourceValidationException} naming the field.
 *
 * <p>Stateless and thread-safe.
 */
public final class ResourceDocuments {
    /** The apiVersion of Outrider's own kinds (Service, MeshConfig, RateLimitPolicy). */
    public static final String API_VERSION = "outrider.dev/v1";
    /** Names the body in the policy reader's errors (not part of the messages this class gives). */
    static final String SOURCE = "request body";

    /** Duplicate keys refused; trailing tokens are read as further documents and refused by the caller. */
    static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final List<String> DOCUMENT = List.of("apiVersion", "kind", "metadata", "spec");
    private static final List<String> METADATA = List.of("name", "namespace", "annotations", "resourceVersion");
    private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,18}");

    private ResourceDocuments() {
    }

    /**
     * Reads and validates one document sent to the API.
     *
     * @param kind          the kind the URL names; the body's {@code kind} must be the same
     * @param urlNamespace  the namespace of the URL; ignored (may be null) for {@link ResourceKind#MESH_CONFIG}
     * @param urlNameOrNull the name of the URL (PUT), or null (POST: {@code metadata.name} is then required);
     *                      for the MeshConfig null or {@code default}
     * @param body          the request body (the server limits its size)
     * @param contentType   the Content-Type header: application/yaml, application/x-yaml, text/yaml or
     *                      application/json, optionally with {@code charset=utf-8}
     * @throws ResourceValidationException with the field and the problem
     */
    public static ValidatedResource parse(ResourceKind kind, String urlNamespace, String urlNameOrNull, byte[] body,
                                          String contentType) {
        requireNonNull(kind, "kind");
        requireNonNull(body, "body");
        String namespace = kind.namespaced() ? requireUrlLabel(urlNamespace, "namespace") : null;
        String urlName = kind.namespaced() ? (urlNameOrNull == null ? null : requireUrlLabel(urlNameOrNull, "name"))
                : urlNameOrNull == null ? MeshConfig.NAME : urlNameOrNull;
        if (!kind.namespaced() && !urlName.equals(MeshConfig.NAME)) {
            throw ResourceValidationException.invalid(null, "the MeshConfig is named " + quote(MeshConfig.NAME)
                    + ", not " + quote(urlName));
        }
        JsonNode document = DocumentBodies.read(body, contentType);

        JsonNode kindNode = document.get("kind");
        if (kindNode == null || kindNode.isNull()) {
            throw ResourceValidationException.invalid("kind", "is required");
        }
        String bodyKind = DocumentFields.text(kindNode, "kind", DocumentFields.Check.ANY, ResourceValidationException.FIELDS);
        if (!bodyKind.equals(kind.kind())) {
            throw ResourceValidationException.invalid("kind", quote(bodyKind) + " does not match the URL, which is"
                    + " for " + kind.kind());
        }
        JsonNode metadataNode = document.get("metadata");
        if (metadataNode != null && !metadataNode.isNull() && !metadataNode.isObject()) {
            throw ResourceValidationException.invalid("metadata", "expected a mapping, got "
                    + DocumentFields.typeOf(metadataNode));
        }
        ObjectNode metadata = metadataNode == null || metadataNode.isNull() ? JSON.createObjectNode()
                : (ObjectNode) metadataNode;
        String name = name(metadata, urlName, kind.namespaced());
        if (kind.namespaced()) {
            String bodyNamespace = string(metadata, "namespace");
            if (bodyNamespace != null && !bodyNamespace.equals(namespace)) {
                throw ResourceValidationException.invalid("metadata.namespace", quote(bodyNamespace)
                        + " does not match the namespace in the URL, " + quote(namespace));
            }
        } else if (metadata.hasNonNull("namespace")) {
            throw ResourceValidationException.invalid("metadata.namespace", "the MeshConfig has no namespace;"
                    + " leave it out");
        }
        long expectedVersion = resourceVersion(metadata.get("resourceVersion"));
        ObjectNode normalized = normalize((ObjectNode) document, metadata, name, namespace);
        ResourceKey key = kind.namespaced() ? new ResourceKey(kind.kind(), namespace, name) : MeshConfig.KEY;
        if (kind.isPolicy()) {
            validatePolicy(normalized);
        } else {
            validateOwnKind(kind, normalized, key);
        }
        return new ValidatedResource(key, write(normalized), expectedVersion);
    }

    /**
     * The JSON the API answers for a stored resource: the document with {@code metadata.resourceVersion} set to
     * the stored version as a decimal string.
     */
    public static byte[] render(StoredResource resource) {
        requireNonNull(resource, "resource");
        ObjectNode document = readStored(resource);
        JsonNode metadata = document.get("metadata");
        ObjectNode target = metadata instanceof ObjectNode object ? object : document.putObject("metadata");
        target.put("resourceVersion", Long.toString(resource.resourceVersion()));
        return write(document);
    }

    /**
     * Stored policy documents as one text {@link PolicyDocuments#parse} reads (JSON objects one after the
     * other, one per line), ordered by key so the same set always gives the same text; empty for none.
     */
    public static String policyText(List<StoredResource> policies) {
        requireNonNull(policies, "policies");
        List<StoredResource> sorted = new ArrayList<>(policies);
        sorted.sort(Comparator.comparing(StoredResource::key));
        StringBuilder text = new StringBuilder();
        for (StoredResource policy : sorted) {
            text.append(new String(policy.document(), StandardCharsets.UTF_8).strip()).append('\n');
        }
        return text.toString();
    }

    /**
     * A stored document as a tree.
     *
     * @throws IllegalStateException when it is not a JSON object (a damaged store)
     */
    static ObjectNode readStored(StoredResource resource) {
        try {
            return readJson(resource.document());
        } catch (IllegalStateException e) {
            throw new IllegalStateException("stored " + resource.key() + " is " + e.getMessage(), e);
        }
    }

    /**
     * A document this class wrote ({@link ValidatedResource#json()}, or stored) as a tree.
     *
     * @throws IllegalStateException when it is not a JSON object
     */
    static ObjectNode readJson(byte[] json) {
        try {
            JsonNode node = JSON.readTree(json);
            if (node instanceof ObjectNode object) {
                return object;
            }
            throw new IllegalStateException("not a JSON object");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // reading a byte array does no I/O
        }
    }

    static byte[] write(JsonNode node) {
        try {
            return JSON.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e); // a tree of plain JSON values always serializes
        }
    }

    private static String requireUrlLabel(String value, String what) {
        if (!DnsLabel.isValid(value)) {
            throw ResourceValidationException.invalid(null, "the " + what + " in the URL, "
                    + (value == null ? "none" : quote(value)) + ", is not an RFC 1123 label");
        }
        return value;
    }

    private static String name(ObjectNode metadata, String urlName, boolean namespaced) {
        String bodyName = string(metadata, "name");
        if (urlName == null) {
            if (bodyName == null) {
                throw ResourceValidationException.invalid("metadata.name", "is required");
            }
            return bodyName;
        }
        if (bodyName != null && !bodyName.equals(urlName)) {
            throw ResourceValidationException.invalid("metadata.name", quote(bodyName) + (namespaced
                    ? " does not match the name in the URL, " + quote(urlName)
                    : " is not the MeshConfig's name; there is one, named " + quote(MeshConfig.NAME)));
        }
        return urlName;
    }

    /** An optional metadata label ({@code name}, {@code namespace}); null when absent. */
    private static String string(ObjectNode metadata, String field) {
        JsonNode value = metadata.get(field);
        return value == null || value.isNull() ? null
                : DocumentFields.text(value, "metadata." + field, DocumentFields.Check.LABEL, ResourceValidationException.FIELDS);
    }

    /** {@code metadata.resourceVersion}: a decimal string as the API writes it (a bare integer is taken too). */
    private static long resourceVersion(JsonNode value) {
        if (value == null || value.isNull()) {
            return Store.ANY_VERSION;
        }
        String text = value.isIntegralNumber() ? value.asText() : value.isTextual() ? value.textValue() : null;
        if (text == null || !VERSION.matcher(text).matches()) {
            throw ResourceValidationException.invalid("metadata.resourceVersion", (text == null
                    ? DocumentFields.typeOf(value) : quote(text)) + " is not a resourceVersion (a positive decimal number,"
                    + " as the API answered it); leave it out for an unconditional write");
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ResourceValidationException.invalid("metadata.resourceVersion", quote(text)
                    + " is greater than " + Long.MAX_VALUE);
        }
    }

    /**
     * The document to store: apiVersion, kind, metadata (name, namespace for namespaced kinds, then the rest as
     * sent, without resourceVersion), spec, then any other field as sent (for the validators to refuse).
     */
    private static ObjectNode normalize(ObjectNode document, ObjectNode metadata, String name, String namespace) {
        ObjectNode out = JSON.createObjectNode();
        if (document.has("apiVersion")) {
            out.set("apiVersion", document.get("apiVersion"));
        }
        out.set("kind", document.get("kind"));
        ObjectNode meta = out.putObject("metadata").put("name", name);
        if (namespace != null) {
            meta.put("namespace", namespace);
        }
        for (Map.Entry<String, JsonNode> e : metadata.properties()) {
            if (!List.of("name", "namespace", "resourceVersion").contains(e.getKey())) {
                meta.set(e.getKey(), e.getValue());
            }
        }
        for (Map.Entry<String, JsonNode> e : document.properties()) {
            if (!List.of("apiVersion", "kind", "metadata").contains(e.getKey())) {
                out.set(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    /** The sidecar's reader on the exact JSON that will be stored; its path and problem become ours. */
    private static void validatePolicy(ObjectNode normalized) {
        try {
            PolicyDocuments.parse(new String(write(normalized), StandardCharsets.UTF_8), SOURCE);
        } catch (PolicyException e) {
            throw ResourceValidationException.invalid(e.path(), e.problem());
        }
    }

    /**
     * Service, Sidecar and MeshConfig: the layout, {@code apiVersion: outrider.dev/v1} (a Sidecar also Istio's
     * {@code networking.istio.io}), metadata, then the spec.
     */
    private static void validateOwnKind(ResourceKind kind, ObjectNode normalized, ResourceKey key) {
        DocumentFields root = DocumentFields.of(normalized, "", ResourceValidationException.FIELDS, DOCUMENT);
        JsonNode apiVersion = root.get("apiVersion");
        if (apiVersion == null) {
            throw ResourceValidationException.invalid("apiVersion", "is required");
        }
        if (kind == ResourceKind.SIDECAR) {
            root.text(apiVersion, "apiVersion", v -> SidecarSpec.API_VERSIONS.contains(v) ? null
                    : quote(v) + " is not a supported apiVersion; supported: " + String.join(", ", SidecarSpec.API_VERSIONS));
        } else {
            root.text(apiVersion, "apiVersion", v -> v.equals(API_VERSION) ? null
                    : quote(v) + " is not a supported apiVersion: " + kind.kind() + " is an " + API_VERSION + " kind");
        }
        root.object("metadata", METADATA).stringMap("annotations"); // validated, kept as sent
        JsonNode spec = root.get("spec");
        switch (kind) {
            case SERVICE -> ServiceSpec.read(new ServiceName(key.name(), key.namespace()), spec);
            case SIDECAR -> SidecarSpec.read(key, spec);
            case MESH_CONFIG -> MeshConfig.read(spec);
            default -> throw new IllegalArgumentException(kind + " is a policy kind");
        }
    }
}
