package dev.outrider.core.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Reading the control plane's answers (JSON with Jackson). Pure
 * functions; the mapper is immutable and thread-safe.
 */
final class ApiAnswers {
    static final JsonMapper JSON = JsonMapper.builder().build();
    private static final int MAX_QUOTED = 300;

    private ApiAnswers() {
    }

    /** The error an answer with a non-success {@code status} stands for. */
    static ControlPlaneException error(String call, int status, byte[] body) {
        try {
            JsonNode error = JSON.readTree(body);
            if (error != null && error.isObject() && error.path("message").isTextual()) {
                JsonNode field = error.get("field");
                return ControlPlaneException.server(call, status, error.path("reason").asText(null),
                        error.path("message").asText(), field != null && field.isTextual() && !field.asText().isEmpty()
                                ? field.asText() : null);
            }
        } catch (IOException e) {
            // not JSON: a proxy or load balancer in between answered; quote what it said
        }
        return ControlPlaneException.server(call, status, null, printable(body), null);
    }

    /** The JSON object of a successful answer. */
    static JsonNode object(String call, int status, byte[] body) {
        try {
            JsonNode node = JSON.readTree(body);
            if (node != null && node.isObject()) {
                return node;
            }
        } catch (JsonProcessingException e) {
            throw ControlPlaneException.badResponse(call, status, "body is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ControlPlaneException.badResponse(call, status, "body unreadable: " + e.getMessage());
        }
        throw ControlPlaneException.badResponse(call, status, "body is not a JSON object");
    }

    /** The text field {@code name} of {@code node}, required. */
    static String text(String call, int status, JsonNode node, String name) {
        JsonNode value = node.get(name);
        if (value == null || !value.isTextual()) {
            throw ControlPlaneException.badResponse(call, status, "answer has no text field '" + name + "'");
        }
        return value.asText();
    }

    static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("JSON encoding of a request body failed", e);
        }
    }

    /** A body quoted in an error: printable ASCII only, bounded. */
    static String printable(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8).strip();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < text.length() && out.length() < MAX_QUOTED; i++) {
            char c = text.charAt(i);
            out.append(c >= 0x20 && c < 0x7f ? c : ' ');
        }
        if (text.length() > MAX_QUOTED) {
            out.append("...");
        }
        return out.isEmpty() ? "(no body)" : out.toString();
    }
}
