package dev.outrider.core.identity;

import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.ApiClient;
import dev.outrider.controlplane.testing.TestMesh;
import dev.outrider.core.client.BootstrapToken;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.model.SpiffeId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * When a sidecar renews a certificate the control plane's CA issued (the real {@link WorkloadCertificates} against a
 * real control plane): at half of the lifetime it has on arrival. The CA backdates notBefore by a minute for clock
 * skew, so with the shortest {@code certificateTtl} (one minute) half of the notBefore..notAfter window is already
 * behind a certificate when it arrives; renewing from there renewed it again at once, every few seconds.
 */
@Timeout(60)
class RenewalScheduleTest {
    @TempDir
    Path dir;
    private ControlPlaneFixture cp;
    private ControlPlaneClient client;
    private WorkloadCertificates certificates;

    @AfterEach
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {certificates, client, cp}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception e) {
                // the next one still closes
            }
        }
    }

    @Test
    void aOneMinuteCertificateIsRenewedAfterHalfAMinuteNotAtOnce() throws Exception {
        cp = ControlPlaneFixture.start(dir.resolve("cp"));
        ApiClient admin = cp.adminByToken();
        HttpResponse<String> mesh = admin.put("/v1/meshconfig", "application/yaml",
                "apiVersion: outrider.dev/v1\nkind: MeshConfig\nspec: {certificateTtl: 1m}\n");
        assertThat(mesh.statusCode()).as(mesh.body()).isIn(200, 201);
        HttpResponse<String> created = admin.post("/v1/join-tokens", "{\"namespace\": \"shop\", \"serviceAccount\": \"orders\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        BootstrapToken token = BootstrapToken.joinToken(ApiClient.json(created).get("token").asText());

        CertificateFiles files = new CertificateFiles(dir.resolve("cert.pem"), dir.resolve("key.pem"),
                Files.writeString(dir.resolve("bundle.pem"), TestMesh.pem(cp.mesh.caCertificate())));
        client = ControlPlaneClient.open(files.clientConfig(
                List.of(URI.create("https://127.0.0.1:" + cp.controlPlane.address().getPort())),
                ControlPlaneClientConfig.defaultServerIdentity(TestMesh.TD)));
        Instant asked = Instant.now();
        certificates = WorkloadCertificates.start(client, files, SpiffeId.ofServiceAccount(TestMesh.TD, "shop", "orders"),
                () -> Optional.of(token),
                Clock.systemUTC(), () -> { }, Duration.ofSeconds(20));

        CertificateStatus issued = CertificateStatus.of(files, SpiffeId.ofServiceAccount(TestMesh.TD, "shop", "orders"),
                Instant.now());
        assertThat(Duration.between(issued.notBefore(), issued.notAfter())).as("backdated by a minute: a two-minute window")
                .isGreaterThan(Duration.ofSeconds(90));
        // Half of the minute from its arrival, plus up to 5 % of that minute as jitter.
        assertThat(certificates.nextRenewal()).isAfter(asked.plusSeconds(25)).isBefore(issued.notAfter());
    }
}
