package dev.outrider.core.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.model.DnsLabel;

import java.util.List;

import static dev.outrider.core.document.DocumentFields.quote;

/**
 * Translates one parsed document (a Jackson tree) into a validated {@link PolicyDocument}, field by field,
 * failing on the first problem with its path. AuthorizationPolicy, RequestAuthentication and PeerAuthentication are read in
 * Istio's layout, under any of {@link #API_VERSIONS}; RateLimitPolicy, Outrider's own kind, in the layout its
 * record describes, under {@code outrider.dev/v1} only. This class reads the envelope (apiVersion, kind, metadata)
 * and hands the spec to the reader of its kind: {@link AuthorizationPolicyReader},
 * {@link RequestAuthenticationReader}, {@link RateLimitPolicyReader}, {@link PeerAuthenticationReader},
 * {@link ServiceEntryReader} (under {@link #NETWORKING_API_VERSIONS}).
 */
final class DocumentReader {
    static final List<String> API_VERSIONS = List.of(PolicyDocument.API_VERSION, "security.istio.io/v1",
            "security.istio.io/v1beta1");
    /** ServiceEntry's: Istio's networking group, and Outrider's own. */
    static final List<String> NETWORKING_API_VERSIONS = List.of(PolicyDocument.API_VERSION, "networking.istio.io/v1",
            "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3");
    static final List<String> KINDS = List.of("AuthorizationPolicy", "RequestAuthentication", "RateLimitPolicy",
            "PeerAuthentication", "ServiceEntry");
    private static final List<String> DOCUMENT = List.of("apiVersion", "kind", "metadata", "spec");
    private static final List<String> METADATA = List.of("name", "namespace", "annotations");
    private static final List<String> SELECTOR = List.of("matchLabels");

    private DocumentReader() {
    }

    /**
     * Names the document for errors: {@code <Kind> <namespace>/<name>} when those are present and valid,
     * otherwise {@code fallback} (its position in the source), preceded by the kind when that is known.
     */
    static String label(JsonNode document, String fallback) {
        String kind = textOrNull(document.get("kind"));
        JsonNode metadata = document.get("metadata");
        String name = metadata == null ? null : textOrNull(metadata.get("name"));
        String namespace = metadata == null ? null : textOrNull(metadata.get("namespace"));
        boolean knownKind = kind != null && KINDS.contains(kind);
        if (knownKind && DnsLabel.isValid(name) && DnsLabel.isValid(namespace)) {
            return kind + " " + namespace + "/" + name;
        }
        return knownKind ? kind + " in " + fallback : fallback;
    }

    static PolicyDocument read(JsonNode document, ErrorContext errors) {
        DocumentFields root = DocumentFields.of(document, "", errors, DOCUMENT);
        String kind = root.requiredString("kind", k -> KINDS.contains(k) ? null
                : quote(k) + " is not a supported kind; supported: " + String.join(", ", KINDS));
        List<String> versions = kind.equals("ServiceEntry") ? NETWORKING_API_VERSIONS : API_VERSIONS;
        root.requiredString("apiVersion", kind.equals("RateLimitPolicy") ? DocumentReader::outriderApiVersion
                : v -> versions.contains(v) ? null
                : quote(v) + " is not a supported apiVersion for " + kind + "; supported: " + String.join(", ", versions));
        ObjectMeta metadata = metadata(root);
        // The spec with only the kind's fields; absent = {}.
        return switch (kind) {
            case "AuthorizationPolicy" ->
                    AuthorizationPolicyReader.read(metadata, root.section("spec", AuthorizationPolicyReader.SPEC));
            case "RequestAuthentication" ->
                    RequestAuthenticationReader.read(metadata, root.section("spec", RequestAuthenticationReader.SPEC));
            case "RateLimitPolicy" ->
                    RateLimitPolicyReader.read(metadata, root.section("spec", RateLimitPolicyReader.SPEC));
            case "PeerAuthentication" ->
                    PeerAuthenticationReader.read(metadata, root.section("spec", PeerAuthenticationReader.SPEC));
            case "ServiceEntry" -> ServiceEntryReader.read(metadata, root.section("spec", ServiceEntryReader.SPEC));
            default -> throw new IllegalStateException("kind " + kind + " is in KINDS but not read");
        };
    }

    /** RateLimitPolicy, Outrider's own kind, exists under {@code outrider.dev/v1} only; Istio has no such kind. */
    private static String outriderApiVersion(String apiVersion) {
        return apiVersion.equals(PolicyDocument.API_VERSION) ? null : quote(apiVersion)
                + " is not a supported apiVersion: RateLimitPolicy is an " + PolicyDocument.API_VERSION + " kind";
    }

    private static ObjectMeta metadata(DocumentFields root) {
        if (!root.has("metadata")) {
            throw root.errors().fail("metadata", "is required");
        }
        DocumentFields metadata = root.object("metadata", METADATA);
        String name = metadata.requiredString("name", DocumentFields.Check.LABEL);
        String namespace = metadata.requiredString("namespace", DocumentFields.Check.LABEL);
        return new ObjectMeta(name, namespace, metadata.stringMap("annotations"));
    }

    static WorkloadSelector selector(DocumentFields spec) {
        DocumentFields selector = spec.object("selector", SELECTOR);
        return selector == null ? WorkloadSelector.ALL : new WorkloadSelector(selector.stringMap("matchLabels"));
    }

    private static String textOrNull(JsonNode node) {
        return node != null && node.isTextual() ? node.textValue() : null;
    }
}
