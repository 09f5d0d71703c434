package dev.outrider.proxy.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code ${NAME}} and {@code ${NAME:-default}} in the bootstrap file's values, from an injected environment. */
class EnvSubstitutionTest {

    private static BootstrapConfig parse(String yaml, Map<String, String> env) {
        return BootstrapLoader.parse(yaml, "sidecar.yaml", env);
    }

    private static ConfigException error(String yaml, Map<String, String> env) {
        try {
            parse(yaml, env);
        } catch (ConfigException e) {
            assertThat(e.source()).isEqualTo("sidecar.yaml");
            return e;
        }
        throw new AssertionError("expected a ConfigException for:\n" + yaml);
    }

    @Test
    void aReferenceIsTheVariablesValue() {
        BootstrapConfig c = parse("""
                node:
                  service: ${OUTRIDER_SERVICE}
                  namespace: "${OUTRIDER_NAMESPACE}"
                """, Map.of("OUTRIDER_SERVICE", "orders", "OUTRIDER_NAMESPACE", "shop"));

        assertThat(c.node().service()).isEqualTo("orders");
        assertThat(c.node().namespace()).isEqualTo("shop");
    }

    @Test
    void theDefaultAppliesWhenTheVariableIsUnsetOrEmpty() {
        String yaml = "node: {service: orders, trustDomain: '${TD:-cluster.local}'}\n";

        assertThat(parse(yaml, Map.of()).node().trustDomain()).isEqualTo("cluster.local");
        assertThat(parse(yaml, Map.of("TD", "")).node().trustDomain()).isEqualTo("cluster.local");
        assertThat(parse(yaml, Map.of("TD", "example.org")).node().trustDomain()).isEqualTo("example.org");
    }

    @Test
    void referencesMayBePartOfAValueAndSeveralInOne() {
        BootstrapConfig c = parse("""
                node: {service: orders}
                inbound: {application: '127.0.0.1:${APP_PORT:-8080}'}
                controlPlane:
                  address: ${CP_HOST}:${CP_PORT:-15010}
                  snapshotKeys: /etc/outrider/mesh/snapshot-keys.json
                  cacheDirectory: /var/run/outrider/cache
                  advertise: ${POD_IP}:15006
                """, Map.of("APP_PORT", "9090", "CP_HOST", "cp.outrider-system.svc", "POD_IP", "10.1.2.3"));

        assertThat(c.inbound().application()).isEqualTo(new HostPort("127.0.0.1", 9090));
        assertThat(c.controlPlane().addresses()).containsExactly(new HostPort("cp.outrider-system.svc", 15010));
        assertThat(c.controlPlane().advertise()).isEqualTo(new HostPort("10.1.2.3", 15006));
    }

    @Test
    void numbersBooleansAndDurationsAreReadFromSubstitutedText() {
        BootstrapConfig c = parse("""
                node: {service: orders}
                outbound: {upstreams: [{service: payments, port: '${PAYMENTS_PORT}'}]}
                services: [{name: payments, endpoints: ["10.0.0.9:15006"]}]
                runtime: {eventLoops: '${LOOPS:-2}', drainTimeout: '${DRAIN:-5s}'}
                accessLog:
                  enabled: ${ACCESS_LOG:-true}
                """, Map.of("PAYMENTS_PORT", "9002", "ACCESS_LOG", "false"));

        assertThat(c.outbound().upstreams().getFirst().port()).isEqualTo(9002);
        assertThat(c.runtime().eventLoops()).isEqualTo(2);
        assertThat(c.runtime().drainTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.accessLog().enabled()).isFalse();
    }

    @Test
    void aSubstitutedValueIsStillValidated() {
        assertThat(error("node: {service: orders}\nhealth: {listen: '0.0.0.0:${PORT}'}\n", Map.of("PORT", "70000"))
                .getMessage()).isEqualTo("health.listen: 70000 is not a port (0-65535)");
        assertThat(error("node: {service: orders}\nruntime: {eventLoops: '${LOOPS}'}\n", Map.of("LOOPS", "many"))
                .getMessage()).isEqualTo("runtime.eventLoops: expected an integer, got string 'many'");
        assertThat(error("node: {service: orders}\naccessLog: {enabled: '${LOG}'}\n", Map.of("LOG", "yes"))
                .getMessage()).isEqualTo("accessLog.enabled: expected true or false, got string 'yes'");
    }

    @Test
    void aQuotedNumberWithoutAReferenceIsStillAString() {
        assertThat(error("node: {service: orders}\nruntime: {eventLoops: '4'}\n", Map.of()).getMessage())
                .isEqualTo("runtime.eventLoops: expected an integer, got string '4'");
    }

    @Test
    void anUnsetVariableWithoutDefaultNamesTheFieldAndTheVariable() {
        ConfigException e = error("node: {service: '${OUTRIDER_SERVICE}'}\n", Map.of());

        assertThat(e.path()).isEqualTo("node.service");
        assertThat(e.getMessage()).isEqualTo("node.service: environment variable OUTRIDER_SERVICE is not set "
                + "(write ${OUTRIDER_SERVICE:-default} to give a default)");
    }

    @Test
    void errorsInListsNameTheElement() {
        ConfigException e = error("""
                node: {service: orders}
                services: [{name: payments, endpoints: ["10.0.0.9:15006", "${PAYMENTS_2}:15006"]}]
                """, Map.of());

        assertThat(e.path()).isEqualTo("services[0].endpoints[1]");
        assertThat(e.getMessage()).contains("PAYMENTS_2 is not set");
    }

    @Test
    void aDoubleDollarEscapesAReference() {
        BootstrapConfig c = parse("node: {service: orders}\naccessLog: {path: '/tmp/$${HOME}-${X:-a}.log'}\n",
                Map.of("HOME", "/root"));

        assertThat(c.accessLog().path()).isEqualTo("/tmp/${HOME}-a.log");
    }

    @Test
    void aLoneDollarIsItself() {
        assertThat(parse("node: {service: orders}\naccessLog: {path: '/tmp/$x$-$'}\n", Map.of()).accessLog().path())
                .isEqualTo("/tmp/$x$-$");
    }

    @Test
    void substitutedValuesAreNotScannedAgain() {
        BootstrapConfig c = parse("node: {service: orders}\naccessLog: {path: '${LOG_PATH}'}\n",
                Map.of("LOG_PATH", "/tmp/${SECRET}.log", "SECRET", "leaked"));

        assertThat(c.accessLog().path()).isEqualTo("/tmp/${SECRET}.log");
    }

    @Test
    void anEmptyResultMeansNotSet() {
        BootstrapConfig c = parse("""
                node: {service: orders, namespace: '${NS}'}
                runtime: {eventLoops: '${LOOPS:-}'}
                controlPlane:
                  address: cp:15010
                  snapshotKeys: /etc/outrider/mesh/snapshot-keys.json
                  cacheDirectory: /var/run/outrider/cache
                  instance: ${POD_NAME:-}
                """, Map.of("NS", ""));

        assertThat(c.node().namespace()).isEqualTo("default");
        assertThat(c.runtime().eventLoops()).isZero();
        assertThat(c.controlPlane().instance()).isNull();
    }

    @Test
    void keysAreNotSubstituted() {
        ConfigException e = error("node: {service: orders, labels: {'${KEY}': v1}}\n", Map.of("KEY", "version"));

        assertThat(e.path()).isEqualTo("node.labels.${KEY}");
        assertThat(e.getMessage()).contains("'${KEY}' is not a label name");
    }

    @Test
    void labelValuesAreSubstituted() {
        assertThat(parse("node: {service: orders, labels: {version: '${VERSION}'}}\n", Map.of("VERSION", "v2"))
                .node().labels()).containsEntry("version", "v2");
    }

    @Test
    void malformedReferencesAreErrors() {
        assertThat(error("node: {service: '${OUTRIDER_SERVICE'}\n", Map.of()).getMessage())
                .isEqualTo("node.service: '${OUTRIDER_SERVICE': '${' without a closing '}' (write $${ for a literal ${)");
        assertThat(error("node: {service: '${1X}'}\n", Map.of()).getMessage())
                .startsWith("node.service: '${1X}' is not a variable reference");
        assertThat(error("node: {service: '${}'}\n", Map.of()).getMessage())
                .startsWith("node.service: '${}' is not a variable reference");
        assertThat(error("node: {service: '${A:-${B}}'}\n", Map.of()).getMessage())
                .isEqualTo("node.service: '${A:-${B': a default cannot contain a reference");
    }

    @Test
    void loadReadsTheFileWithTheGivenEnvironment(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("sidecar.yaml");
        Files.writeString(file, "node: {service: '${OUTRIDER_SERVICE}'}\n");
        Map<String, String> env = new HashMap<>();
        env.put("OUTRIDER_SERVICE", "frontend");

        assertThat(BootstrapLoader.load(file, env).node().service()).isEqualTo("frontend");
        env.clear();
        assertThatThrownBy(() -> BootstrapLoader.load(file, env)).isInstanceOf(ConfigException.class)
                .hasMessageContaining("OUTRIDER_SERVICE is not set")
                .extracting(t -> ((ConfigException) t).source()).isEqualTo(file.toString());
    }
}
