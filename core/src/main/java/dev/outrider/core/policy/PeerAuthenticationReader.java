package dev.outrider.core.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.policy.PeerAuthentication.Mode;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.outrider.core.document.DocumentFields.quote;

/**
 * Reads the {@code spec} of a PeerAuthentication, in Istio's layout (selector, mtls.mode, portLevelMtls), into a
 * {@link PeerAuthentication}, failing on the first problem with its path. Istio's rules kept: modes are the enum
 * names, case as written; {@code portLevelMtls} keys are port numbers (1 to 65535) and need a selector with
 * {@code matchLabels}. Pure functions.
 */
final class PeerAuthenticationReader {
    static final List<String> SPEC = List.of("selector", "mtls", "portLevelMtls");
    private static final List<String> MTLS = List.of("mode");
    private static final String MODES = String.join(", ", Arrays.stream(Mode.values()).map(Mode::name).toList());

    private PeerAuthenticationReader() {
    }

    static PeerAuthentication read(ObjectMeta metadata, DocumentFields spec) {
        WorkloadSelector selector = DocumentReader.selector(spec);
        Mode mode = mode(spec.object("mtls", MTLS));
        Map<Integer, Mode> ports = portLevel(spec);
        if (!ports.isEmpty() && selector.matchLabels().isEmpty()) {
            throw spec.fail("portLevelMtls", "needs spec.selector.matchLabels: port-level modes apply to the"
                    + " workloads a selector names, not to a namespace or the mesh (as in Istio)");
        }
        return new PeerAuthentication(metadata, selector, mode, ports);
    }

    /** {@code {mode: X}}; absent (or no mode) = UNSET. */
    private static Mode mode(DocumentFields mtls) {
        if (mtls == null) {
            return Mode.UNSET;
        }
        String mode = mtls.string("mode", PeerAuthenticationReader::modeProblem);
        return mode == null ? Mode.UNSET : Mode.valueOf(mode);
    }

    private static String modeProblem(String value) {
        for (Mode m : Mode.values()) {
            if (m.name().equals(value)) {
                return null;
            }
        }
        return quote(value) + " is not an mTLS mode; use one of " + MODES;
    }

    private static Map<Integer, Mode> portLevel(DocumentFields spec) {
        JsonNode node = spec.get("portLevelMtls");
        Map<Integer, Mode> ports = new LinkedHashMap<>();
        if (node == null) {
            return ports;
        }
        if (!node.isObject()) {
            throw spec.fail("portLevelMtls", "expected a mapping of port numbers to {mode: ...}, got "
                    + DocumentFields.typeOf(node));
        }
        Map<Integer, String> keys = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String at = spec.path("portLevelMtls") + "[" + e.getKey() + "]";
            int port = port(e.getKey());
            if (port < 0) {
                throw spec.errors().fail(at, quote(e.getKey()) + " is not a port number (1 to 65535)");
            }
            String previous = keys.putIfAbsent(port, e.getKey());
            if (previous != null) {
                throw spec.errors().fail(at, "port " + port + " is already listed as " + quote(previous));
            }
            if (e.getValue() == null || e.getValue().isNull()) {
                throw spec.errors().fail(at, "expected a mapping {mode: ...}, got null");
            }
            DocumentFields entry = DocumentFields.of(e.getValue(), at, spec.errors(), spec.wording(), MTLS);
            ports.put(port, mode(entry));
        }
        return ports;
    }

    /** The port a key names, or -1: decimal digits only, 1 to 65535. */
    private static int port(String key) {
        if (key.isEmpty() || key.length() > 5 || !key.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return -1;
        }
        int port = Integer.parseInt(key);
        return port >= 1 && port <= 65535 ? port : -1;
    }
}
