package dev.outrider.controlplane.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.document.Durations;
import dev.outrider.core.model.DnsLabel;
import dev.outrider.controlplane.store.ResourceKey;
import dev.outrider.controlplane.store.Store;
import dev.outrider.controlplane.store.StoreReader;
import dev.outrider.controlplane.store.StoredResource;
import dev.outrider.core.model.ResourceKind;

import java.time.Duration;
import java.util.List;

import static dev.outrider.core.document.DocumentFields.quote;
import static java.util.Objects.requireNonNull;

/**
 * The mesh-wide settings, one per mesh (docs/control-plane.md, "MeshConfig"), defaults applied:
 * <pre>{@code
 * apiVersion: outrider.dev/v1
 * kind: MeshConfig
 * metadata: {name: default}
 * spec:
 *   rootNamespace: outrider-system  # policies here apply to every workload
 *   certificateTtl: 24h              # 1m..7d (minutes: for trying rotation)
 *   registrationTtl: 60s             # 10s..1h
 * }</pre>
 * Durations are written as {@link Durations} reads them ({@code 90s}, {@code 1h30m}, {@code 7d}). Stored at
 * {@link #KEY}; when never written, {@link #DEFAULTS} apply.
 */
public record MeshConfig(String rootNamespace, Duration certificateTtl, Duration registrationTtl) {
    /** Where the one MeshConfig is stored (the store needs a namespace; the API has none). */
    public static final ResourceKey KEY = new ResourceKey(ResourceKind.MESH_CONFIG.kind(), "mesh", "default");
    public static final String NAME = KEY.name();
    public static final Duration MIN_CERTIFICATE_TTL = Duration.ofMinutes(1);
    public static final Duration MAX_CERTIFICATE_TTL = Duration.ofDays(7);
    public static final Duration MIN_REGISTRATION_TTL = Duration.ofSeconds(10);
    public static final Duration MAX_REGISTRATION_TTL = Duration.ofHours(1);
    public static final MeshConfig DEFAULTS = new MeshConfig("outrider-system", Duration.ofHours(24),
            Duration.ofSeconds(60));

    static final List<String> SPEC_FIELDS = List.of("rootNamespace", "certificateTtl", "registrationTtl");

    public MeshConfig {
        requireNonNull(rootNamespace, "rootNamespace");
        requireNonNull(certificateTtl, "certificateTtl");
        requireNonNull(registrationTtl, "registrationTtl");
        if (!DnsLabel.isValid(rootNamespace)) {
            throw new IllegalArgumentException("rootNamespace '" + rootNamespace + "' is not an RFC 1123 label");
        }
        String problem = boundsProblem(certificateTtl, MIN_CERTIFICATE_TTL, MAX_CERTIFICATE_TTL);
        if (problem != null) {
            throw new IllegalArgumentException("certificateTtl " + problem);
        }
        problem = boundsProblem(registrationTtl, MIN_REGISTRATION_TTL, MAX_REGISTRATION_TTL);
        if (problem != null) {
            throw new IllegalArgumentException("registrationTtl " + problem);
        }
    }

    /**
     * The stored MeshConfig, or {@link #DEFAULTS} when none was written.
     *
     * @throws IllegalStateException when the stored document is not a valid MeshConfig (a damaged store)
     */
    public static MeshConfig load(StoreReader store) {
        requireNonNull(store, "store");
        return store.get(KEY).map(MeshConfig::of).orElse(DEFAULTS);
    }

    /** The MeshConfig of a stored document (validated when it was written). */
    public static MeshConfig of(StoredResource resource) {
        requireNonNull(resource, "resource");
        if (!resource.key().equals(KEY)) {
            throw new IllegalArgumentException(resource.key() + " is not the MeshConfig (" + KEY + ")");
        }
        try {
            return read(ResourceDocuments.readStored(resource).get("spec"));
        } catch (ResourceValidationException e) {
            throw new IllegalStateException("stored " + KEY + " is not a valid MeshConfig: " + e.getMessage(), e);
        }
    }

    /**
     * This configuration as a complete document (JSON, without {@code resourceVersion}), as the API shows the
     * mesh config when it was never written.
     */
    public byte[] toDocument() {
        ObjectNode document = ResourceDocuments.JSON.createObjectNode()
                .put("apiVersion", ResourceDocuments.API_VERSION)
                .put("kind", ResourceKind.MESH_CONFIG.kind());
        document.putObject("metadata").put("name", NAME);
        document.putObject("spec")
                .put("rootNamespace", rootNamespace)
                .put("certificateTtl", Durations.formatInSeconds(certificateTtl))
                .put("registrationTtl", Durations.formatInSeconds(registrationTtl));
        return ResourceDocuments.write(document);
    }

    /** Reads (and validates) {@code spec}, null or absent meaning {@code {}}; absent fields take the defaults. */
    static MeshConfig read(JsonNode spec) {
        if (spec == null || spec.isNull()) {
            return DEFAULTS;
        }
        DocumentFields fields = DocumentFields.of(spec, "spec", ResourceValidationException.FIELDS, SPEC_FIELDS);
        String root = fields.string("rootNamespace", DocumentFields.Check.LABEL);
        Duration certificate = duration(fields, "certificateTtl", MIN_CERTIFICATE_TTL, MAX_CERTIFICATE_TTL);
        Duration registration = duration(fields, "registrationTtl", MIN_REGISTRATION_TTL, MAX_REGISTRATION_TTL);
        return new MeshConfig(root == null ? DEFAULTS.rootNamespace : root,
                certificate == null ? DEFAULTS.certificateTtl : certificate,
                registration == null ? DEFAULTS.registrationTtl : registration);
    }

    private static Duration duration(DocumentFields fields, String name, Duration min, Duration max) {
        JsonNode value = fields.get(name);
        if (value == null) {
            return null;
        }
        if (value.isNumber()) {
            throw ResourceValidationException.invalid(fields.path(name),
                    "expected a duration with a unit, got a number; write e.g. \"60s\" (units: ms, s, m, h, d)");
        }
        String text = fields.text(value, fields.path(name), DocumentFields.Check.ANY);
        Duration d;
        try {
            d = Durations.parse(text);
        } catch (Durations.InvalidDurationException e) {
            throw ResourceValidationException.invalid(fields.path(name), e.tooLarge() ? quote(text) + " "
                    + boundsProblem(min, max) : quote(text) + " is not a duration: e.g. \"90s\", \"1h30m\", \"7d\""
                    + " (units: ms, s, m, h, d)");
        }
        String problem = boundsProblem(d, min, max);
        if (problem != null) {
            throw ResourceValidationException.invalid(fields.path(name), quote(text) + " " + problem);
        }
        return d;
    }

    private static String boundsProblem(Duration d, Duration min, Duration max) {
        return d.compareTo(min) < 0 || d.compareTo(max) > 0 ? boundsProblem(min, max) : null;
    }

    private static String boundsProblem(Duration min, Duration max) {
        return "must be between " + Durations.formatInSeconds(min) + " and " + Durations.formatInSeconds(max);
    }
}
