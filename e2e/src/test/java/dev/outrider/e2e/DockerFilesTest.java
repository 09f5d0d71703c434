package dev.outrider.e2e;

import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.config.ConfigException;
import dev.outrider.proxy.config.HostPort;
import org.junit.jupiter.api.Test;

import java.lang.module.ModuleFinder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.outrider.e2e.Yamls.at;
import static dev.outrider.e2e.Yamls.list;
import static dev.outrider.e2e.Yamls.map;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The files of docker/ read as their tools read them, without Docker: every YAML parses; the Dockerfiles run
 * as a non-root user with a health check, the options file and the jlinked runtime; the compose services are
 * read-only, non-root, health-checked and ordered; the sidecar configs load with the contract's environment;
 * the scripts are valid bash.
 */
class DockerFilesTest {
    static final Path DOCKER = ImageHome.ROOT.resolve("docker");
    static final List<String> CONTRACT_VARIABLES = List.of("OUTRIDER_SERVICE", "OUTRIDER_NAMESPACE",
            "OUTRIDER_SERVICE_ACCOUNT", "OUTRIDER_POD_NAME", "OUTRIDER_POD_IP", "OUTRIDER_CONTROL_PLANE",
            "OUTRIDER_APP_PORT", "OUTRIDER_TRUST_DOMAIN");

    @Test
    void everyYamlFileParses() throws Exception {
        List<String> parsed = new ArrayList<>();
        try (Stream<Path> files = Files.walk(DOCKER)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).toList()) {
                assertThat(Yamls.documents(f)).as(f.toString()).isNotEmpty();
                parsed.add(DOCKER.relativize(f).toString());
            }
        }
        assertThat(parsed).contains("compose.yaml", "sidecar.yaml", "compose/sidecar.yaml", "training/sidecar.yaml",
                "training/policies.yaml", "kubernetes/control-plane.yaml", "kubernetes/sample-app.yaml",
                "kubernetes/sample-mesh.yaml", "kubernetes/etcd.yaml");
    }

    /** One Dockerfile as stages of instructions (continuation lines joined, comments dropped). */
    record Instruction(String keyword, String args) {
    }

    static List<List<Instruction>> stages(Path dockerfile) throws Exception {
        List<List<Instruction>> stages = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String raw : Files.readAllLines(dockerfile)) {
            String line = raw.strip();
            if (current.isEmpty() && (line.isEmpty() || line.startsWith("#"))) {
                continue;
            }
            if (line.startsWith("#")) {
                continue; // a comment inside a continued instruction
            }
            if (line.endsWith("\\")) {
                current.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            current.append(line);
            String text = current.toString().strip();
            current.setLength(0);
            int space = text.indexOf(' ');
            Instruction i = new Instruction(text.substring(0, space).toUpperCase(), text.substring(space + 1).strip());
            if (i.keyword().equals("FROM")) {
                stages.add(new ArrayList<>());
            }
            if (!stages.isEmpty()) {
                stages.getLast().add(i);
            }
        }
        return stages;
    }

    private static List<String> all(List<Instruction> stage, String keyword) {
        return stage.stream().filter(i -> i.keyword().equals(keyword)).map(Instruction::args).toList();
    }

    @Test
    void theDockerfilesBuildANonRootReadOnlyImageWithAHealthCheckTheOptionsAndTheJlinkedRuntime() throws Exception {
        for (String name : List.of("sidecar", "control-plane")) {
            Path file = DOCKER.resolve(name + ".Dockerfile");
            List<List<Instruction>> stages = stages(file);
            List<Instruction> image = stages.getLast();
            String what = file.getFileName().toString();

            assertThat(all(image, "USER")).as(what + " USER").containsExactly("65532:65532");
            assertThat(all(image, "HEALTHCHECK")).as(what).singleElement().asString()
                    .contains("CMD [\"/opt/outrider/bin/healthcheck\"");
            assertThat(all(image, "ENTRYPOINT")).as(what)
                    .containsExactly("[\"/opt/outrider/bin/" + name + "-entrypoint\"]");
            assertThat(DOCKER.resolve("bin/" + name + "-entrypoint")).isExecutable();
            assertThat(all(image, "COPY")).as(what).contains("--from=aot /opt/outrider/ /opt/outrider/");
            assertThat(all(image, "EXPOSE")).as(what).containsExactly(name.equals("sidecar") ? "15006 15021" : "15010");
            assertThat(all(image, "RUN")).as(what).anySatisfy(run -> assertThat(run).contains("useradd --uid 65532"));

            List<Instruction> every = stages.stream().flatMap(List::stream).toList();
            assertThat(all(every, "COPY")).as(what)
                    .contains("config/jvm/" + name + ".options /opt/outrider/jvm/");
            assertThat(all(every, "RUN")).as(what).anySatisfy(run -> assertThat(run)
                    .contains("/tmp/jre-modules.txt").contains("jlink --add-modules \"$modules\"")
                    .contains("--strip-debug --no-man-pages --no-header-files --compress zip-6"))
                    .anySatisfy(run -> assertThat(run).contains("/docker/training/train-" + name + ".sh"))
                    .anySatisfy(run -> assertThat(run).contains("mvnw -B -q -DskipTests -pl "
                            + (name.equals("sidecar") ? "proxy" : "control-plane") + " -am package"));
            assertThat(all(every, "COPY")).as(what).contains("docker/jre-modules.txt /tmp/jre-modules.txt");
            // Every file copied from the build context exists (a typo would only show in a real build).
            for (String copy : all(every, "COPY")) {
                if (copy.startsWith("--from=")) {
                    continue;
                }
                String[] parts = copy.replaceAll("--chmod=\\S+\\s+", "").split("\\s+");
                for (int i = 0; i < parts.length - 1; i++) {
                    assertThat(ImageHome.ROOT.resolve(parts[i])).as(what + ": COPY " + copy).exists();
                }
            }
        }
    }

    @Test
    void theJreModulesAreJdkModules() throws Exception {
        for (String line : Files.readAllLines(DOCKER.resolve("jre-modules.txt"))) {
            String module = line.replaceAll("#.*", "").strip();
            if (!module.isEmpty()) {
                assertThat(ModuleFinder.ofSystem().find(module)).as(module).isPresent();
            }
        }
    }

    @Test
    void theComposeServicesAreReadOnlyNonRootHealthCheckedAndStartInOrder() throws Exception {
        Map<String, Object> compose = map(Yamls.documents(DOCKER.resolve("compose.yaml")).getFirst(), "compose.yaml");
        Map<String, Object> services = map(compose.get("services"), "services");
        Map<String, Object> volumes = map(compose.get("volumes"), "volumes");
        assertThat(services).containsOnlyKeys("mesh-init", "control-plane", "setup", "orders-proxy", "orders",
                "frontend-proxy", "frontend");

        services.forEach((name, s) -> {
            Map<String, Object> service = map(s, name);
            assertThat(service.get("read_only")).as(name + " read_only").isEqualTo(true);
            assertThat(String.valueOf(service.get("user"))).as(name + " user").isEqualTo("65532:65532");
            assertThat(list(service.get("cap_drop"), name + " cap_drop")).containsExactly("ALL");
            if (String.valueOf(service.get("image")).startsWith("outrider/")) {
                assertThat(list(service.get("tmpfs"), name + " tmpfs")).singleElement().asString()
                        .startsWith("/tmp:exec");
            }
            if (service.get("volumes") instanceof List<?> mounts) {
                for (Object m : mounts) {
                    String source = m.toString().split(":")[0];
                    if (source.startsWith(".")) {
                        assertThat(DOCKER.resolve(source)).as(name + " mounts " + source).exists();
                    } else {
                        assertThat(volumes).as(name + " mounts volume " + source).containsKey(source);
                    }
                }
            }
        });

        assertThat(at(services, "control-plane.image")).isEqualTo("outrider/control-plane:0.1.0");
        assertThat(at(services, "mesh-init.image")).isEqualTo("outrider/tools:0.1.0");
        assertThat(at(services, "control-plane.depends_on.mesh-init.condition")).isEqualTo("service_completed_successfully");
        assertThat(at(services, "setup.depends_on.control-plane.condition")).isEqualTo("service_healthy");
        assertThat(list(at(services, "control-plane.healthcheck.test"), "test")).contains("/opt/outrider/bin/healthcheck");
        for (String pod : List.of("orders", "frontend")) {
            String proxy = pod + "-proxy";
            assertThat(at(services, proxy + ".image")).isEqualTo("outrider/sidecar:0.1.0");
            assertThat(at(services, proxy + ".depends_on.setup.condition")).isEqualTo("service_completed_successfully");
            assertThat(list(at(services, proxy + ".healthcheck.test"), "test"))
                    .containsExactly("CMD", "/opt/outrider/bin/healthcheck", "15021", "/ready");
            Map<String, Object> env = map(at(services, proxy + ".environment"), proxy + " environment");
            assertThat(env).containsKeys(CONTRACT_VARIABLES.toArray(String[]::new))
                    .containsEntry("OUTRIDER_CONFIG", "/etc/outrider/compose/sidecar.yaml");
            assertThat(list(at(services, proxy + ".volumes"), "volumes")).contains("mesh:/etc/outrider/mesh:ro",
                    "./compose/sidecar.yaml:/etc/outrider/compose/sidecar.yaml:ro", pod + "-run:/var/run/outrider");
            // The application shares its sidecar's network namespace and starts once the sidecar is ready.
            assertThat(at(services, pod + ".network_mode")).isEqualTo("service:" + proxy);
            assertThat(at(services, pod + ".depends_on." + proxy + ".condition")).isEqualTo("service_healthy");
        }
        for (String step : List.of("mesh-init", "setup")) {
            String script = list(at(services, step + ".command"), step).getFirst().toString();
            assertThat(script).startsWith("/opt/outrider-tools/bin/");
            assertThat(DOCKER.resolve("compose").resolve(Path.of(script).getFileName())).isExecutable();
        }
    }

    /** The environment {@code outrider inject} gives the sidecar container (docs/kubernetes.md). */
    static Map<String, String> contractEnvironment() {
        Map<String, String> env = new HashMap<>();
        env.put("OUTRIDER_SERVICE", "orders");
        env.put("OUTRIDER_NAMESPACE", "shop");
        env.put("OUTRIDER_SERVICE_ACCOUNT", "orders");
        env.put("OUTRIDER_POD_NAME", "orders-7d4b9c-x2x9k");
        env.put("OUTRIDER_POD_IP", "10.1.2.3");
        env.put("OUTRIDER_CONTROL_PLANE", "outrider-control-plane.outrider-system.svc:15010");
        env.put("OUTRIDER_APP_PORT", "9090");
        env.put("OUTRIDER_TRUST_DOMAIN", "cluster.local");
        return env;
    }

    @Test
    void theImageConfigUsesTheContractsVariablesAndPaths() throws Exception {
        Path file = DOCKER.resolve("sidecar.yaml");
        String text = Files.readString(file);
        for (String variable : CONTRACT_VARIABLES) {
            assertThat(text).as(variable).contains("${" + variable);
        }
        Map<String, Object> yaml = map(Yamls.documents(file).getFirst(), "sidecar.yaml");
        assertThat(at(yaml, "controlPlane.serviceAccountToken")).isEqualTo("/var/run/secrets/outrider/token");
        assertThat(at(yaml, "controlPlane.snapshotKeys")).isEqualTo("/etc/outrider/mesh/snapshot-keys.json");
        assertThat(at(yaml, "tls.trustBundle")).isEqualTo("/var/run/outrider/ca-bundle.pem");
        assertThat(at(yaml, "controlPlane.address"))
                .isEqualTo("${OUTRIDER_CONTROL_PLANE:-outrider-control-plane.outrider-system.svc:15010}");

        BootstrapConfig config = BootstrapLoader.parse(text, file.toString(), contractEnvironment());
        assertThat(config.node().service()).isEqualTo("orders");
        assertThat(config.node().namespace()).isEqualTo("shop");
        assertThat(config.inbound().listen()).isEqualTo(new HostPort("0.0.0.0", 15006));
        assertThat(config.inbound().application()).isEqualTo(new HostPort("127.0.0.1", 9090));
        assertThat(config.outbound().listen()).isEqualTo(new HostPort("127.0.0.1", 15001));
        assertThat(config.health()).isEqualTo(new HostPort("0.0.0.0", 15021));
        assertThat(config.admin()).isEqualTo(new HostPort("127.0.0.1", 15000));
        assertThat(config.controlPlane().addresses())
                .containsExactly(new HostPort("outrider-control-plane.outrider-system.svc", 15010));
        assertThat(config.controlPlane().advertise()).isEqualTo(new HostPort("10.1.2.3", 15006));
        assertThat(config.controlPlane().instance()).isEqualTo("orders-7d4b9c-x2x9k");
        assertThat(config.controlPlane().identity().toString())
                .isEqualTo("spiffe://cluster.local/ns/outrider-system/sa/control-plane");
        assertThat(config.controlPlane().serviceAccountToken()).isEqualTo(Path.of("/var/run/secrets/outrider/token"));
        assertThat(config.controlPlane().joinToken()).isNull();

        Map<String, String> ipv6 = contractEnvironment();
        ipv6.put("OUTRIDER_POD_IP", "fd00::5");
        ipv6.remove("OUTRIDER_CONTROL_PLANE");
        ipv6.remove("OUTRIDER_APP_PORT");
        ipv6.remove("OUTRIDER_TRUST_DOMAIN");
        BootstrapConfig defaults = BootstrapLoader.parse(text, file.toString(), ipv6);
        assertThat(defaults.controlPlane().advertise()).isEqualTo(new HostPort("fd00::5", 15006));
        assertThat(defaults.inbound().application()).isEqualTo(new HostPort("127.0.0.1", 8080));
        assertThat(defaults.node().trustDomain()).isEqualTo("cluster.local");
    }

    @Test
    void theComposeConfigLoadsWithAJoinToken() throws Exception {
        Path file = DOCKER.resolve("compose/sidecar.yaml");
        Map<String, String> env = contractEnvironment();
        env.put("OUTRIDER_POD_IP", "orders-proxy");
        env.put("OUTRIDER_JOIN_TOKEN_FILE", "/etc/outrider/join/orders");

        BootstrapConfig config = BootstrapLoader.load(file, env);

        assertThat(config.controlPlane().joinToken()).isEqualTo(Path.of("/etc/outrider/join/orders"));
        assertThat(config.controlPlane().advertise()).isEqualTo(new HostPort("orders-proxy", 15006));
        env.remove("OUTRIDER_JOIN_TOKEN_FILE");
        try {
            BootstrapLoader.load(file, env);
            throw new AssertionError("loaded without OUTRIDER_JOIN_TOKEN_FILE");
        } catch (ConfigException e) {
            assertThat(e.getMessage()).isEqualTo("controlPlane.joinToken: environment variable OUTRIDER_JOIN_TOKEN_FILE "
                    + "is not set (write ${OUTRIDER_JOIN_TOKEN_FILE:-default} to give a default)");
        }
        // Outside the differences it names (join token, control-plane address), it is the image's config.
        String image = Files.readString(DOCKER.resolve("sidecar.yaml"));
        String composeText = Files.readString(file);
        for (String line : List.of("listen: 0.0.0.0:15006", "listen: 127.0.0.1:15001", "listen: 0.0.0.0:15021",
                "listen: 127.0.0.1:15000", "certificate: /var/run/outrider/cert.pem", "cacheDirectory: /var/run/outrider/cache",
                "privateKey: /var/run/outrider/key.pem", "trustBundle: /var/run/outrider/ca-bundle.pem",
                "snapshotKeys: /etc/outrider/mesh/snapshot-keys.json", "instance: ${OUTRIDER_POD_NAME}")) {
            assertThat(image).contains(line);
            assertThat(composeText).contains(line);
        }
    }

    @Test
    void theScriptsAreBash() throws Exception {
        List<Path> scripts = new ArrayList<>();
        try (Stream<Path> files = Files.walk(DOCKER)) {
            files.filter(p -> p.toString().endsWith(".sh") || p.getParent().endsWith("bin")).forEach(scripts::add);
        }
        assertThat(scripts).hasSizeGreaterThanOrEqualTo(9);
        Pattern shebang = Pattern.compile("\\A#!/usr/bin/env bash\\n");
        for (Path script : scripts) {
            ImageHome.Run r = ImageHome.run(System.getenv(), List.of("bash", "-n", script.toString()));
            assertThat(r.exit()).as(script + ": " + r.output()).isZero();
            String text = Files.readString(script);
            if (script.getFileName().toString().equals("outrider-jvm.sh")) {
                assertThat(text).as("sourced, not run").startsWith("# shellcheck shell=bash");
                continue;
            }
            Matcher m = shebang.matcher(text);
            assertThat(m.find()).as(script + " starts with #!/usr/bin/env bash").isTrue();
            assertThat(script).as(script + " is executable").isExecutable();
            assertThat(text).as(script + " stops on errors").containsPattern("set -[eu]+o pipefail|set -uo pipefail");
        }
    }
}
