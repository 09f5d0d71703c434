package dev.outrider.controlplane.cli;

import dev.outrider.controlplane.ControlPlaneConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code --k8s-issuer}, {@code --k8s-jwks} and {@code --k8s-audience}: together or not at all, errors naming the option. */
class KubernetesOptionsTest {

    private static ControlPlaneConfig config(String... extra) {
        return MainOptions.config(extra);
    }

    @Test
    void offByDefault() {
        assertThat(config().kubernetes()).isNull();
    }

    @Test
    void issuerAndJwksWithTheDefaultAudience() {
        assertThat(config("--k8s-issuer", "https://kubernetes.default.svc.cluster.local", "--k8s-jwks", "jwks.json")
                .kubernetes()).isEqualTo(new ControlPlaneConfig.Kubernetes("https://kubernetes.default.svc.cluster.local",
                Path.of("jwks.json"), "outrider"));
        assertThat(config("--k8s-issuer", "https://oidc.example", "--k8s-jwks", "j", "--k8s-audience", "mesh")
                .kubernetes().audience()).isEqualTo("mesh");
    }

    @Test
    void halfAConfigurationIsRefusedNamingWhatIsMissing() {
        assertThatThrownBy(() -> config("--k8s-issuer", "https://oidc.example"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--k8s-issuer: needs --k8s-jwks (Kubernetes service-account tokens need both the issuer"
                        + " and its JWK Set)");
        assertThatThrownBy(() -> config("--k8s-jwks", "jwks.json"))
                .hasMessageStartingWith("--k8s-jwks: needs --k8s-issuer");
        assertThatThrownBy(() -> config("--k8s-audience", "outrider"))
                .hasMessage("--k8s-audience: needs --k8s-issuer and --k8s-jwks");
        assertThatThrownBy(() -> config("--k8s-issuer", " ", "--k8s-jwks", "j"))
                .hasMessage("--k8s-issuer: must not be empty");
        assertThatThrownBy(() -> config("--k8s-issuer", "https://oidc.example", "--k8s-jwks", "j", "--k8s-audience", ""))
                .hasMessage("--k8s-audience: must not be empty");
    }
}
