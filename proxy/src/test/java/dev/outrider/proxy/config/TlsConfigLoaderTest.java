package dev.outrider.proxy.config;

import dev.outrider.core.model.SpiffeId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The tls section, node.serviceAccount and services[].identities: defaults and every error message. */
class TlsConfigLoaderTest {
    private static BootstrapConfig parse(String yaml) {
        return BootstrapLoader.parse("node: {service: frontend, namespace: shop}\n" + yaml, "t");
    }

    @Test
    void defaultsAreMtlsWithTls13AndTheWorkloadIdentity() {
        BootstrapConfig c = parse("");
        assertThat(c.tls().enabled()).isTrue();
        assertThat(c.tls().minVersion()).isEqualTo(TlsConfig.TlsVersion.TLS_1_3);
        assertThat(c.tls().provider()).isEqualTo(TlsConfig.TlsProvider.AUTO);
        assertThat(c.tls().certificate()).isEqualTo(Path.of("/etc/outrider/tls/cert.pem"));
        assertThat(c.node().serviceAccount()).isEqualTo("frontend");
        assertThat(c.node().identity()).isEqualTo(SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/frontend"));
    }

    @Test
    void everyFieldCanBeSet() {
        BootstrapConfig c = parse("""
                tls: {mode: disabled, certificate: a.pem, privateKey: b.pem, trustBundle: c.pem, minVersion: tlsv1.2,
                      provider: jdk, handshakeTimeout: 3s, reloadInterval: 100ms, ticketKeyRotation: 30m}
                """);
        assertThat(c.tls()).isEqualTo(new TlsConfig(TlsConfig.TlsMode.DISABLED, Path.of("a.pem"), Path.of("b.pem"),
                Path.of("c.pem"), TlsConfig.TlsVersion.TLS_1_2, TlsConfig.TlsProvider.JDK, Duration.ofSeconds(3),
                Duration.ofMillis(100), Duration.ofMinutes(30)));
    }

    @Test
    void serviceIdentitiesDefaultToTheServiceAccountOfTheSameName() {
        BootstrapConfig c = parse("services: [{name: orders, endpoints: ['127.0.0.1:1']},"
                + " {name: pay, namespace: money, endpoints: ['127.0.0.1:2'],"
                + " identities: ['spiffe://cluster.local/ns/money/sa/pay-v2', 'spiffe://cluster.local/ns/money/sa/pay']}]\n");
        assertThat(c.services().get(0).identities())
                .containsExactly(SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders"));
        assertThat(c.services().get(1).identities()).containsExactly(
                SpiffeId.parse("spiffe://cluster.local/ns/money/sa/pay-v2"),
                SpiffeId.parse("spiffe://cluster.local/ns/money/sa/pay"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "tls: {minVersion: TLSv1.1} | tls.minVersion: 'TLSv1.1' is not a supported TLS version",
            "tls: {provider: conscrypt} | tls.provider",
            "tls: {mode: permissive} | tls.mode",
            "tls: {certificate: ''} | tls.certificate",
            "tls: {handshakeTimeout: 0} | tls.handshakeTimeout",
            "tls: {reload: 1s} | tls.reload: unknown field 'reload'",
            "node: {service: a, serviceAccount: Web} | node.serviceAccount",
            "services: [{name: o, endpoints: ['h:1'], identities: ['https://x/y']}] | services[0].identities[0]: not a SPIFFE ID",
    })
    void errorsNameTheField(String yaml, String message) {
        String doc = yaml.startsWith("node:") ? yaml + "\n" : "node: {service: frontend}\n" + yaml + "\n";
        assertThatThrownBy(() -> BootstrapLoader.parse(doc, "t")).isInstanceOf(ConfigException.class)
                .hasMessageContaining(message);
    }
}
