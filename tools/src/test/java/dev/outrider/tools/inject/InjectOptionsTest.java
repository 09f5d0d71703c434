package dev.outrider.tools.inject;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Flag validation: quantities as Kubernetes reads them, and every other flag, each error naming its flag. */
class InjectOptionsTest {
    private static InjectOptions options(String image, String controlPlane, String trustDomain, String service,
                                         Integer appPort) {
        return new InjectOptions(image, controlPlane, trustDomain, service, appPort, false, SidecarResources.DEFAULT);
    }

    @Test
    void quantitiesAreReadAsKubernetesReadsThem() {
        assertThat(Quantity.parse("100m").value()).isEqualByComparingTo("0.1");
        assertThat(Quantity.parse("1").value()).isEqualByComparingTo("1");
        assertThat(Quantity.parse("1.5").value()).isEqualByComparingTo("1.5");
        assertThat(Quantity.parse(".5").value()).isEqualByComparingTo("0.5");
        assertThat(Quantity.parse("2.").value()).isEqualByComparingTo("2");
        assertThat(Quantity.parse("+3").value()).isEqualByComparingTo("3");
        assertThat(Quantity.parse("128Mi").value()).isEqualByComparingTo(BigDecimal.valueOf(128L << 20));
        assertThat(Quantity.parse("1Gi").value()).isEqualByComparingTo(BigDecimal.valueOf(1L << 30));
        assertThat(Quantity.parse("1G").value()).isEqualByComparingTo("1000000000");
        assertThat(Quantity.parse("500k").value()).isEqualByComparingTo("500000");
        assertThat(Quantity.parse("2e3").value()).isEqualByComparingTo("2000");
        assertThat(Quantity.parse("15E-1").value()).isEqualByComparingTo("1.5");
        assertThat(Quantity.parse("250u").value()).isEqualByComparingTo("0.00025");
        assertThat(Quantity.parse("1E").value()).isEqualByComparingTo("1e18");
        assertThat(Quantity.parse("128Mi").text()).isEqualTo("128Mi");
    }

    @Test
    void notQuantitiesAreRefused() {
        for (String bad : new String[] {"", "Mi", "128MB", "128mi", "1.2.3", "1 Gi", "0x10", "1Ki1", "e3", "one",
                "1e", "1e99"}) {
            assertThatThrownBy(() -> Quantity.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> Quantity.parse("128MB")).hasMessage(
                "'128MB' is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi, 1Gi)");
        assertThatThrownBy(() -> Quantity.parse("-1")).hasMessage("'-1' is negative");
    }

    @Test
    void resourcesNameTheFlagThatIsWrong() {
        assertThatThrownBy(() -> SidecarResources.of("100m", "128Mi", "one", "256Mi"))
                .hasMessage("--cpu-limit: 'one' is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi, 1Gi)");
        assertThatThrownBy(() -> SidecarResources.of("100m", "128m", "1", "256Mi"))
                .hasMessage("--memory-request: '128m' is a fraction of a byte (m is milli; Mi is mebibytes)");
        assertThatThrownBy(() -> SidecarResources.of("2", "128Mi", "1", "256Mi"))
                .hasMessage("--cpu-request 2 is more than --cpu-limit 1 (Kubernetes refuses a request above its limit)");
        assertThatThrownBy(() -> SidecarResources.of("100m", "1Gi", "1", "1G"))
                .hasMessage("--memory-request 1Gi is more than --memory-limit 1G (Kubernetes refuses a request above "
                        + "its limit)");
        SidecarResources equal = SidecarResources.of("1000m", "1024Mi", "1", "1Gi");
        assertThat(equal.cpuRequest().text()).isEqualTo("1000m");
    }

    @Test
    void defaultsAreTheContracts() {
        InjectOptions d = InjectOptions.defaults();
        assertThat(d.image()).isEqualTo("outrider/sidecar:0.1.0");
        assertThat(d.controlPlane()).isEqualTo("outrider-control-plane.outrider-system.svc:15010");
        assertThat(d.trustDomain()).isEqualTo("cluster.local");
        assertThat(d.service()).isNull();
        assertThat(d.appPort()).isNull();
        assertThat(d.legacySidecar()).isFalse();
        assertThat(d.resources()).isEqualTo(SidecarResources.of("100m", "192Mi", "1", "384Mi"));
    }

    @Test
    void otherFlagsAreChecked() {
        String image = InjectOptions.DEFAULT_IMAGE;
        String cp = InjectOptions.DEFAULT_CONTROL_PLANE;
        String td = InjectOptions.DEFAULT_TRUST_DOMAIN;
        assertThatThrownBy(() -> options("my image", cp, td, null, null))
                .hasMessage("--image: 'my image' is not an image reference");
        assertThatThrownBy(() -> options("", cp, td, null, null)).hasMessageStartingWith("--image: ");
        assertThatThrownBy(() -> options(image, "control-plane", td, null, null))
                .hasMessage("--control-plane: expected host:port, got 'control-plane'");
        assertThatThrownBy(() -> options(image, "cp:0", td, null, null))
                .hasMessage("--control-plane: expected host:port with a port from 1 to 65535, got 'cp:0'");
        assertThatThrownBy(() -> options(image, "cp:99999", td, null, null))
                .hasMessageStartingWith("--control-plane: port must be between 0 and 65535");
        assertThatThrownBy(() -> options(image, cp, "Cluster.Local", null, null))
                .hasMessage("--trust-domain: trust domain 'Cluster.Local' has 'C' (allowed: lower-case letters, "
                        + "digits, '.', '-', '_')");
        assertThatThrownBy(() -> options(image, cp, td, "Orders_API", null))
                .hasMessage("--service: 'Orders_API' is not a DNS label (lower-case letters, digits and '-', at most 63)");
        assertThatThrownBy(() -> options(image, cp, td, null, 0))
                .hasMessage("--app-port: 0 is not a port (1 to 65535)");
        assertThatThrownBy(() -> options(image, cp, td, null, 15006))
                .hasMessageStartingWith("--app-port: 15006 is one of the sidecar's own ports");
        assertThat(options("registry:5000/outrider/sidecar@sha256:abc", "[fd00::1]:15010", "prod.example.com",
                "orders", 9090).appPort()).isEqualTo(9090);
    }
}
