package dev.outrider.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * What a sidecar container of the images sees, in temporary directories: {@code mesh} (the outrider-mesh
 * ConfigMap: ca.pem, snapshot-keys.json), {@code join} (join tokens, compose), {@code secrets} (the projected
 * service-account token's /var/run/secrets/outrider), {@code run} (the writable /var/run/outrider) and
 * {@code tmp} (/tmp); and the container's environment (the contract's OUTRIDER_* variables plus the entry
 * point's directory overrides).
 */
final class Pod {
    final Path mesh;
    final Path join;
    final Path run;
    final Path tmp;
    final Path secrets;

    private Pod(Path dir) throws IOException {
        this.mesh = Files.createDirectories(dir.resolve("etc/mesh"));
        this.join = Files.createDirectories(dir.resolve("etc/join"));
        this.run = Files.createDirectories(dir.resolve("run"));
        this.tmp = Files.createDirectories(dir.resolve("tmp"));
        this.secrets = Files.createDirectories(dir.resolve("secrets"));
    }

    /** A pod whose mesh directory holds the CA and the control plane's public snapshot keys. */
    static Pod create(Path dir, ControlPlaneProcess cp, TestCa ca) throws IOException {
        Pod pod = new Pod(dir);
        Files.copy(ca.certificate(), pod.mesh.resolve("ca.pem"));
        Files.copy(cp.snapshotKeys(), pod.mesh.resolve("snapshot-keys.json"));
        return pod;
    }

    /**
     * {@code template} (a committed sidecar config) with the container's paths and ports replaced: listeners on
     * loopback and the given ports instead of 0.0.0.0 and 15006/15001/15021/15000, this pod's directories
     * instead of /var/run/outrider, /var/run/secrets/outrider and /etc/outrider/*. Everything else is as
     * committed.
     */
    Path config(Path template, SidecarProcess.Ports ports) throws IOException {
        String text = Files.readString(template)
                .replace("0.0.0.0", "127.0.0.1")
                .replace("15006", String.valueOf(ports.inbound()))
                .replace("15001", String.valueOf(ports.outbound()))
                .replace("15021", String.valueOf(ports.health()))
                .replace("15000", String.valueOf(ports.admin()))
                .replace("/var/run/secrets/outrider", secrets.toString())
                .replace("/var/run/outrider", run.toString())
                .replace("/etc/outrider/mesh", mesh.toString())
                .replace("/etc/outrider/join", join.toString());
        Path config = run.getParent().resolve("sidecar.yaml");
        Files.writeString(config, text);
        return config;
    }

    /** The container's environment for shop/{@code service}, whose application listens on {@code appPort}. */
    Map<String, String> env(Path config, SidecarProcess.Ports ports, ControlPlaneProcess cp, int appPort,
                            String service) {
        Map<String, String> env = new HashMap<>();
        env.put("OUTRIDER_CONFIG", config.toString());
        env.put("OUTRIDER_RUN_DIR", run.toString());
        env.put("OUTRIDER_MESH_DIR", mesh.toString());
        env.put("OUTRIDER_TMP_DIR", tmp.toString());
        env.put("OUTRIDER_SERVICE", service);
        env.put("OUTRIDER_NAMESPACE", "shop");
        env.put("OUTRIDER_SERVICE_ACCOUNT", service);
        env.put("OUTRIDER_POD_NAME", service + "-1");
        env.put("OUTRIDER_POD_IP", "127.0.0.1");
        env.put("OUTRIDER_CONTROL_PLANE", "127.0.0.1:" + cp.port);
        env.put("OUTRIDER_APP_PORT", String.valueOf(appPort));
        env.put("OUTRIDER_JOIN_TOKEN_FILE", join.resolve(service).toString());
        return env;
    }

    /** The status code of {@code GET path} with {@code Host: host} sent to 127.0.0.1:{@code port} (HTTP/1.1). */
    static int status(int port, String host, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String response = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
            if (!response.startsWith("HTTP/1.1 ") || response.length() < 12) {
                throw new IOException("not an HTTP/1.1 response: " + response);
            }
            return Integer.parseInt(response.substring(9, 12));
        }
    }
}
