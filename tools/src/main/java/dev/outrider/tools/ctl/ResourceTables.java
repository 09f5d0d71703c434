package dev.outrider.tools.ctl;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.model.ResourceKind;
import dev.outrider.core.model.ServiceProtocol;
import dev.outrider.core.policy.ObjectMeta;

import java.util.ArrayList;
import java.util.List;

import static dev.outrider.tools.ctl.Output.text;

/**
 * The {@code -o table} form of resources and sidecars: a few columns that say what each one does, with the
 * defaults of docs/control-plane.md filled in where a field is absent. Pure functions.
 */
final class ResourceTables {
    private ResourceTables() {
    }

    static String resources(ResourceKind kind, List<JsonNode> items) {
        List<String> header = new ArrayList<>(kind.namespaced() ? List.of("NAMESPACE", "NAME") : List.of("NAME"));
        header.addAll(columns(kind));
        header.add("RESOURCEVERSION");
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode item : items) {
            List<String> row = new ArrayList<>();
            if (kind.namespaced()) {
                row.add(text(item, "metadata.namespace"));
            }
            row.add(text(item, "metadata.name"));
            row.addAll(values(kind, item));
            row.add(text(item, "metadata.resourceVersion"));
            rows.add(row);
        }
        return Output.table(header, rows);
    }

    private static List<String> columns(ResourceKind kind) {
        return switch (kind) {
            case AUTHORIZATION_POLICY -> List.of("ACTION", "RULES", "DRY-RUN");
            case REQUEST_AUTHENTICATION -> List.of("ISSUERS");
            case RATE_LIMIT_POLICY -> List.of("RULES");
            case PEER_AUTHENTICATION -> List.of("SELECTOR", "MODE", "PORT-MODES");
            case SERVICE -> List.of("PROTOCOL", "SERVICE-ACCOUNTS", "EXPORT-TO");
            case SIDECAR -> List.of("SERVICE-ACCOUNTS", "EGRESS-HOSTS");
            case SERVICE_ENTRY -> List.of("HOSTS", "PORTS", "RESOLUTION", "TLS", "EXPORT-TO");
            case MESH_CONFIG -> List.of("ROOT-NAMESPACE", "CERTIFICATE-TTL", "REGISTRATION-TTL");
        };
    }

    private static List<String> values(ResourceKind kind, JsonNode item) {
        JsonNode spec = item.path("spec");
        return switch (kind) {
            case AUTHORIZATION_POLICY -> List.of(or(text(spec, "action"), "ALLOW"),
                    Integer.toString(spec.path("rules").size()),
                    Boolean.toString(dryRun(item.path("metadata").path("annotations"))));
            case REQUEST_AUTHENTICATION -> List.of(joined(spec.path("jwtRules"), "issuer"));
            case RATE_LIMIT_POLICY -> List.of(joined(spec.path("rules"), "name"));
            case PEER_AUTHENTICATION -> List.of(or(pairs(spec.path("selector").path("matchLabels")), "(namespace)"),
                    or(text(spec, "mtls.mode"), "UNSET"), portModes(spec.path("portLevelMtls")));
            case SERVICE -> List.of(or(text(spec, "protocol"), ServiceProtocol.DEFAULT.wireName()),
                    or(text(spec, "serviceAccounts"), text(item, "metadata.name")), or(text(spec, "exportTo"), "*"));
            case SIDECAR -> List.of(or(text(spec, "workloadSelector.serviceAccounts"), "(all)"),
                    or(text(spec.path("egress").path(0), "hosts"), "(all exported)"));
            case SERVICE_ENTRY -> List.of(text(spec, "hosts"), ports(spec.path("ports")), text(spec, "resolution"),
                    or(text(spec, "tls.mode"), "DISABLE"), or(text(spec, "exportTo"), "*"));
            case MESH_CONFIG -> List.of(or(text(spec, "rootNamespace"), "outrider-system"),
                    or(text(spec, "certificateTtl"), "24h"), or(text(spec, "registrationTtl"), "60s"));
        };
    }

    /** {@code portLevelMtls} as {@code 8080=PERMISSIVE,9090=STRICT}; empty for none. */
    private static String portModes(JsonNode ports) {
        List<String> modes = new ArrayList<>();
        ports.properties().forEach(e -> modes.add(e.getKey() + "=" + or(text(e.getValue(), "mode"), "UNSET")));
        return String.join(",", modes);
    }

    /** A mapping of strings as {@code app=orders,tier=web}; empty for none. */
    private static String pairs(JsonNode mapping) {
        List<String> pairs = new ArrayList<>();
        mapping.properties().forEach(e -> pairs.add(e.getKey() + "=" + e.getValue().asText()));
        return String.join(",", pairs);
    }

    /**
     * {@code GET /v1/sidecars} as a table, one row per instance; PLAINTEXT is the count of plaintext connections its
     * inbound listener accepted since it started, PLAINTEXT-GREW when the control plane last saw it grow.
     */
    static String sidecars(List<JsonNode> sidecars) {
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode s : sidecars) {
            rows.add(List.of(text(s, "instance"), text(s, "identity"), text(s, "service"), text(s, "address"),
                    text(s, "latestVersion"), text(s, "appliedVersion"), text(s, "state"), text(s, "lastSeen"),
                    text(s, "plaintextConnections"), text(s, "plaintextLastGrew"), text(s, "error")));
        }
        return Output.table(List.of("INSTANCE", "IDENTITY", "SERVICE", "ADDRESS", "LATEST", "APPLIED", "STATE",
                "LAST-SEEN", "PLAINTEXT", "PLAINTEXT-GREW", "ERROR"), rows);
    }

    /**
     * The audit trail: when, the answer, what was done to which resource, the versions before and after, and who
     * (an identity, else the kind of proof) from where; the error of a refusal last.
     */
    static String audit(List<JsonNode> records) {
        List<List<String>> rows = new ArrayList<>();
        for (JsonNode r : records) {
            String resource = String.join("/", java.util.stream.Stream.of(text(r, "kind"), text(r, "namespace"),
                    text(r, "name")).filter(t -> !t.isEmpty()).toList());
            String before = text(r, "resourceVersionBefore");
            String after = text(r, "resourceVersionAfter");
            String versions = before.isEmpty() && after.isEmpty() ? "" : before + "->" + after;
            String who = text(r, "caller.identity").isEmpty() ? text(r, "caller.type")
                    + (text(r, "caller.credential").isEmpty() ? "" : " (" + text(r, "caller.credential") + ")")
                    : text(r, "caller.identity");
            rows.add(List.of(text(r, "time"), text(r, "status"), text(r, "action"), resource, versions, who,
                    text(r, "caller.source"), text(r, "error")));
        }
        return Output.table(List.of("TIME", "STATUS", "ACTION", "RESOURCE", "VERSIONS", "CALLER", "SOURCE", "ERROR"),
                rows);
    }

    /** As {@link ObjectMeta#dryRun()} decides it. */
    private static boolean dryRun(JsonNode annotations) {
        return "true".equalsIgnoreCase(annotations.path(ObjectMeta.DRY_RUN).asText())
                || "true".equalsIgnoreCase(annotations.path(ObjectMeta.ISTIO_DRY_RUN).asText());
    }

    /** A ServiceEntry's ports as {@code 80/HTTP->443}, comma-separated (the target port only when it differs). */
    private static String ports(JsonNode ports) {
        List<String> out = new ArrayList<>();
        for (JsonNode p : ports) {
            String number = text(p, "number");
            String target = text(p, "targetPort");
            out.add(number + "/" + text(p, "protocol") + (target.isEmpty() || target.equals(number) ? "" : "->" + target));
        }
        return String.join(",", out);
    }

    private static String joined(JsonNode array, String field) {
        List<String> values = new ArrayList<>();
        for (JsonNode item : array) {
            String v = text(item, field);
            if (!v.isEmpty()) {
                values.add(v);
            }
        }
        return String.join(",", values);
    }

    private static String or(String value, String fallback) {
        return value.isEmpty() ? fallback : value;
    }
}
