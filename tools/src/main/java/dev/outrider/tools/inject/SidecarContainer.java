package dev.outrider.tools.inject;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * The sidecar as the Kubernetes contract fixes it (docs/kubernetes.md): the {@code outrider-proxy} container
 * (image, ports, environment, resources, security context, probes, mounts) and the four pod volumes it mounts.
 * Pure functions building fresh Jackson nodes, in the field order they are written out.
 */
final class SidecarContainer {
    static final String CONTAINER = "outrider-proxy";
    static final String INJECT_ANNOTATION = "outrider.dev/inject";
    static final String INJECTED_ANNOTATION = "outrider.dev/injected";
    static final String DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container";
    static final String TOKEN_VOLUME = "outrider-token";
    static final String MESH_VOLUME = "outrider-mesh";
    static final String DATA_VOLUME = "outrider-data";
    static final String TMP_VOLUME = "outrider-tmp";
    static final List<String> VOLUMES = List.of(TOKEN_VOLUME, MESH_VOLUME, DATA_VOLUME, TMP_VOLUME);
    static final String INBOUND_PORT_NAME = "outrider-in";
    static final String HEALTH_PORT_NAME = "outrider-health";
    static final List<String> PORT_NAMES = List.of(INBOUND_PORT_NAME, HEALTH_PORT_NAME);
    static final int INBOUND_PORT = 15006;
    static final int HEALTH_PORT = 15021;
    /** Every port the sidecar listens on in the pod's network namespace (admin and outbound on loopback). */
    static final Set<Integer> PORTS_IN_USE = Set.of(15000, 15001, INBOUND_PORT, HEALTH_PORT);
    static final String TOKEN_AUDIENCE = "outrider";
    static final int TOKEN_EXPIRATION_SECONDS = 3600;
    static final int USER = 65532;

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private SidecarContainer() {
    }

    /**
     * The {@code outrider-proxy} container: with {@code restartPolicy: Always} (a native sidecar, an init container)
     * unless {@code options.legacySidecar()}.
     *
     * @param service the value of {@code OUTRIDER_SERVICE}
     * @param appPort the value of {@code OUTRIDER_APP_PORT}
     */
    static ObjectNode container(InjectOptions options, String service, int appPort) {
        requireNonNull(options, "options");
        requireNonNull(service, "service");
        ObjectNode c = NODES.objectNode();
        c.put("name", CONTAINER);
        c.put("image", options.image());
        if (!options.legacySidecar()) {
            c.put("restartPolicy", "Always");
        }
        ArrayNode ports = c.putArray("ports");
        ports.add(port(INBOUND_PORT_NAME, INBOUND_PORT));
        ports.add(port(HEALTH_PORT_NAME, HEALTH_PORT));
        ArrayNode env = c.putArray("env");
        env.add(value("OUTRIDER_SERVICE", service));
        env.add(field("OUTRIDER_NAMESPACE", "metadata.namespace"));
        env.add(field("OUTRIDER_SERVICE_ACCOUNT", "spec.serviceAccountName"));
        env.add(field("OUTRIDER_POD_NAME", "metadata.name"));
        env.add(field("OUTRIDER_POD_IP", "status.podIP"));
        env.add(value("OUTRIDER_CONTROL_PLANE", options.controlPlane()));
        env.add(value("OUTRIDER_APP_PORT", Integer.toString(appPort)));
        env.add(value("OUTRIDER_TRUST_DOMAIN", options.trustDomain()));
        ObjectNode resources = c.putObject("resources");
        SidecarResources r = options.resources();
        resources.putObject("requests").put("cpu", r.cpuRequest().text()).put("memory", r.memoryRequest().text());
        resources.putObject("limits").put("cpu", r.cpuLimit().text()).put("memory", r.memoryLimit().text());
        ObjectNode security = c.putObject("securityContext");
        security.put("runAsNonRoot", true);
        security.put("runAsUser", USER);
        security.put("runAsGroup", USER);
        security.put("readOnlyRootFilesystem", true);
        security.put("allowPrivilegeEscalation", false);
        security.putObject("capabilities").putArray("drop").add("ALL");
        security.putObject("seccompProfile").put("type", "RuntimeDefault");
        // Started (ready) before the next init container and the application containers start: period 1 s,
        // up to 120 s for a cold start (certificate bootstrap included).
        c.set("startupProbe", probe("/ready", 1, 120));
        c.set("readinessProbe", probe("/ready", 5, 3));
        c.set("livenessProbe", probe("/live", 10, 3));
        ArrayNode mounts = c.putArray("volumeMounts");
        mounts.add(mount(TOKEN_VOLUME, "/var/run/secrets/outrider", true));
        mounts.add(mount(MESH_VOLUME, "/etc/outrider/mesh", true));
        mounts.add(mount(DATA_VOLUME, "/var/run/outrider", false));
        mounts.add(mount(TMP_VOLUME, "/tmp", false));
        return c;
    }

    /** The pod volumes, in the order of {@link #VOLUMES}. */
    static List<ObjectNode> volumes() {
        ObjectNode token = NODES.objectNode().put("name", TOKEN_VOLUME);
        token.putObject("projected").putArray("sources").addObject().putObject("serviceAccountToken")
                .put("audience", TOKEN_AUDIENCE)
                .put("expirationSeconds", TOKEN_EXPIRATION_SECONDS)
                .put("path", "token");
        ObjectNode mesh = NODES.objectNode().put("name", MESH_VOLUME);
        mesh.putObject("configMap").put("name", MESH_VOLUME);
        ObjectNode data = NODES.objectNode().put("name", DATA_VOLUME);
        data.putObject("emptyDir");
        ObjectNode tmp = NODES.objectNode().put("name", TMP_VOLUME);
        tmp.putObject("emptyDir");
        return List.of(token, mesh, data, tmp);
    }

    private static ObjectNode port(String name, int number) {
        return NODES.objectNode().put("name", name).put("containerPort", number).put("protocol", "TCP");
    }

    private static ObjectNode value(String name, String value) {
        return NODES.objectNode().put("name", name).put("value", value);
    }

    private static ObjectNode field(String name, String fieldPath) {
        ObjectNode e = NODES.objectNode().put("name", name);
        e.putObject("valueFrom").putObject("fieldRef").put("fieldPath", fieldPath);
        return e;
    }

    private static ObjectNode probe(String path, int periodSeconds, int failureThreshold) {
        ObjectNode p = NODES.objectNode();
        p.putObject("httpGet").put("path", path).put("port", HEALTH_PORT);
        p.put("periodSeconds", periodSeconds);
        p.put("failureThreshold", failureThreshold);
        return p;
    }

    private static ObjectNode mount(String volume, String path, boolean readOnly) {
        ObjectNode m = NODES.objectNode().put("name", volume).put("mountPath", path);
        if (readOnly) {
            m.put("readOnly", true);
        }
        return m;
    }
}
