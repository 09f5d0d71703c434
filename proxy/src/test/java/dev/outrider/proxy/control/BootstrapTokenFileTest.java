package dev.outrider.proxy.control;

import dev.outrider.core.client.BootstrapToken;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.config.ControlPlaneLinkConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Where the bootstrap token comes from: the configured file, read afresh at each attempt. */
class BootstrapTokenFileTest {
    private static final String JWT_1 = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnLTE";
    private static final String JWT_2 = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIyIn0.c2lnLTI";

    @TempDir
    Path dir;

    private ControlPlaneLinkConfig config(String field, Path file) {
        return BootstrapLoader.parse("""
                node: {service: orders, namespace: shop}
                controlPlane:
                  address: 127.0.0.1:15010
                  snapshotKeys: keys.json
                  cacheDirectory: cache
                  %s: %s
                """.formatted(field, file), "test.yaml").controlPlane();
    }

    @Test
    void theServiceAccountTokenIsReadAfreshAtEachAttempt() throws Exception {
        Path file = dir.resolve("token");
        ControlPlaneLinkConfig cp = config("serviceAccountToken", file);

        assertThat(ControlPlaneLink.bootstrapToken(cp)).isEmpty(); // not mounted yet

        Files.writeString(file, JWT_1 + "\n");
        assertThat(ControlPlaneLink.bootstrapToken(cp)).contains(BootstrapToken.serviceAccountToken(JWT_1));

        Files.writeString(file, JWT_2); // the kubelet rotated it
        assertThat(ControlPlaneLink.bootstrapToken(cp)).contains(BootstrapToken.serviceAccountToken(JWT_2));
    }

    @Test
    void aJoinTokenFileGivesAJoinToken() throws Exception {
        Path file = Files.writeString(dir.resolve("join-token"), "k7F0c9k2mJ1q8XvQ_9pZ-3m1hTq0aW5rYb7sU4eLd2o\n");

        assertThat(ControlPlaneLink.bootstrapToken(config("joinToken", file)))
                .contains(BootstrapToken.joinToken("k7F0c9k2mJ1q8XvQ_9pZ-3m1hTq0aW5rYb7sU4eLd2o"));
    }

    @Test
    void emptyOrMisshapenFilesGiveNoToken() throws Exception {
        Path file = Files.writeString(dir.resolve("token"), "  \n");
        ControlPlaneLinkConfig cp = config("serviceAccountToken", file);
        assertThat(ControlPlaneLink.bootstrapToken(cp)).isEmpty();

        Files.writeString(file, "k7F0c9k2mJ1q8XvQ_9pZ-3m1hTq0aW5rYb7sU4eLd2o"); // a join token in the wrong field
        assertThat(ControlPlaneLink.bootstrapToken(cp)).isEmpty();

        assertThat(ControlPlaneLink.bootstrapToken(BootstrapLoader.parse("""
                node: {service: orders, namespace: shop}
                controlPlane: {address: 127.0.0.1:15010, snapshotKeys: k, cacheDirectory: c}
                """, "t").controlPlane())).isEqualTo(Optional.empty());
    }
}
