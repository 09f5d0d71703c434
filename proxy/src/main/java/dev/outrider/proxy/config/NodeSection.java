package dev.outrider.proxy.config;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.document.DocumentFields;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import static dev.outrider.proxy.config.BootstrapFields.error;
import static dev.outrider.proxy.config.BootstrapFields.namespaceLabel;
import static dev.outrider.proxy.config.BootstrapFields.requiredString;
import static dev.outrider.proxy.config.BootstrapFields.serviceLabel;
import static dev.outrider.proxy.config.BootstrapFields.string;

/** The bootstrap file's {@code node} section: who this sidecar is ({@link NodeConfig}). Pure functions. */
final class NodeSection {
    /** SPIFFE trust domain characters (lower-case letters, digits, '.', '-', '_'). */
    private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9]([a-z0-9._-]{0,253}[a-z0-9])?");
    /** Kubernetes label key: optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
    private static final Pattern LABEL_KEY = Pattern.compile(
            "([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?");
    /** Kubernetes label value: empty, or at most 63 characters, alphanumeric at both ends. */
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?");

    private NodeSection() {
    }

    /** {@code node}, which is required (at least {@code node.service}). */
    static NodeConfig read(DocumentFields root) {
        if (!root.has("node")) {
            throw error(root, "node", "required (at least node.service, the service this sidecar serves)");
        }
        DocumentFields n = root.section("node", List.of("service", "namespace", "serviceAccount", "trustDomain",
                "labels"));
        String service = serviceLabel(n, "service", requiredString(n, "service"));
        String namespace = namespaceLabel(n, "namespace", string(n, "namespace", BootstrapLoader.DEFAULT_NAMESPACE));
        String serviceAccount = namespaceLabel(n, "serviceAccount", string(n, "serviceAccount", service));
        String trustDomain = string(n, "trustDomain", BootstrapLoader.DEFAULT_TRUST_DOMAIN);
        if (!TRUST_DOMAIN.matcher(trustDomain).matches()) {
            throw error(n, "trustDomain", "'" + trustDomain + "' is not a trust domain (lower-case letters, digits, "
                    + "'.', '-', '_')");
        }
        return new NodeConfig(service, namespace, serviceAccount, trustDomain, labels(n, service));
    }

    /**
     * Kubernetes-style labels for policy selectors; {@code app: <service>} unless {@code app} is given, so a
     * workload always carries its service's label (as {@code outrider explain} assumes).
     */
    private static Map<String, String> labels(DocumentFields n, String service) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("app", service);
        JsonNode given = n.get("labels");
        if (given == null) {
            return labels;
        }
        if (!given.isObject()) {
            throw error(n, "labels", "expected a mapping of label names to values");
        }
        List<String> keys = new ArrayList<>();
        given.fieldNames().forEachRemaining(keys::add);
        DocumentFields l = n.object("labels", keys);
        for (String key : keys) {
            if (!LABEL_KEY.matcher(key).matches()) {
                throw error(l, key, "'" + key + "' is not a label name ([prefix/]name, name at most 63 letters, "
                        + "digits, '-', '_', '.')");
            }
            JsonNode v = l.get(key);
            String value = v != null && (v.isNumber() || v.isBoolean()) ? v.asText() : string(l, key, "");
            if (!LABEL_VALUE.matcher(value).matches()) {
                throw error(l, key, "'" + value + "' is not a label value (at most 63 letters, digits, '-', '_', '.')");
            }
            labels.put(key, value);
        }
        return labels;
    }
}
