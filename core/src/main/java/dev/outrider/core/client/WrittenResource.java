package dev.outrider.core.client;

import com.fasterxml.jackson.databind.JsonNode;

import static java.util.Objects.requireNonNull;

/**
 * The answer to a write of a resource.
 *
 * @param created  true for 201 (it did not exist), false for 200 (replaced)
 * @param resource the document as stored, with {@code metadata.resourceVersion}
 */
public record WrittenResource(boolean created, JsonNode resource) {
    public WrittenResource {
        requireNonNull(resource, "resource");
    }

    /** {@code metadata.resourceVersion}, or empty text when the server sent none. */
    public String resourceVersion() {
        return resource.path("metadata").path("resourceVersion").asText("");
    }
}
