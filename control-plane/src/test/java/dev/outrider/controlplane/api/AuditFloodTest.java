package dev.outrider.controlplane.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.audit.AuditedRoutes;
import dev.outrider.controlplane.testing.ApiClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A flood of unauthenticated writes is refused, each one, but recorded only up to the bound: the disk stays safe. */
class AuditFloodTest {
    @Test
    void unauthenticatedWritesBeyondTheRateAreRefusedButNotAllRecorded(@TempDir Path dir) throws Exception {
        try (ControlPlaneFixture cp = ControlPlaneFixture.start(dir)) {
            int n = 400;
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                assertThat(cp.anonymous().put("/v1/namespaces/flood/services/s" + i, "application/yaml",
                        "apiVersion: outrider.dev/v1\nkind: Service\n").statusCode()).isEqualTo(401);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            HttpResponse<String> r = cp.adminByToken().get("/v1/audit?namespace=flood&limit=1000");
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode items = ApiClient.json(r).get("items");
            int bound = (int) Math.ceil(AuditedRoutes.UNAUTHENTICATED_BURST
                    + seconds * AuditedRoutes.UNAUTHENTICATED_PER_SECOND) + 1;
            assertThat(items.size()).as("%d refusals in %.1f s", n, seconds)
                    .isBetween(AuditedRoutes.UNAUTHENTICATED_BURST, Math.min(bound, n));
            items.forEach(item -> assertThat(item.path("status").asInt()).isEqualTo(401));
            String log = Files.readString(cp.dataDir.resolve("audit.log"));
            assertThat(log.lines().filter(l -> l.contains("\"flood\"")).count()).isEqualTo(items.size());
        }
    }
}
