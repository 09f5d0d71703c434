package dev.outrider.core.client;

import dev.outrider.controlplane.ControlPlaneFixture;
import dev.outrider.controlplane.testing.TestMesh;
import dev.outrider.core.identity.CertificateFiles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A control-plane address given as one DNS name with several addresses: the client tries them in turn, and TLS
 * still checks the server certificate against the name. The names come from src/test/resources/dns/hosts through
 * the JDK's own resolver (run by the surefire execution "dns", which sets {@code jdk.net.hosts.file}); the control
 * plane listens on 127.0.0.2 only and its certificate names only the names given.
 */
@Timeout(60)
class DnsFailoverTest {
    @TempDir
    Path dir;
    private ControlPlaneFixture cp;
    private ControlPlaneClient client;

    @AfterEach
    void stop() {
        if (client != null) {
            client.close();
        }
        if (cp != null) {
            cp.close();
        }
    }

    @Test
    void aNameWithSeveralAddressesIsTriedAddressByAddressWithTheNameChecked() throws Exception {
        assertThat(InetAddress.getAllByName("cp.outrider.test")).as("run by the surefire execution 'dns'")
                .extracting(InetAddress::getHostAddress).containsExactly("127.0.0.1", "127.0.0.2");
        cp = ControlPlaneFixture.startNamed(dir.resolve("cp"), new InetSocketAddress("127.0.0.2", 0),
                List.of("cp.outrider.test"));
        int port = cp.controlPlane.address().getPort();

        client = ControlPlaneClient.open(config(URI.create("https://cp.outrider.test:" + port)));
        // the first address refuses: that call fails, and the next one goes to the second address
        assertThatThrownBy(client::snapshotKeys).isInstanceOf(ControlPlaneException.class);
        assertThat(client.snapshotKeys()).contains("\"keys\"");
        assertThat(client.snapshotKeys()).as("and stays there").contains("\"keys\"");
    }

    @Test
    void theCertificateIsCheckedAgainstTheNameNotTheAddress() throws Exception {
        cp = ControlPlaneFixture.startNamed(dir.resolve("cp"), new InetSocketAddress("127.0.0.2", 0),
                List.of("single.outrider.test")); // not cp.outrider.test
        int port = cp.controlPlane.address().getPort();

        client = ControlPlaneClient.open(config(URI.create("https://cp.outrider.test:" + port)));
        assertThatThrownBy(client::snapshotKeys).isInstanceOf(ControlPlaneException.class); // 127.0.0.1: refused
        assertThatThrownBy(client::snapshotKeys).as("127.0.0.2 answers with a certificate for another name")
                .isInstanceOf(ControlPlaneException.class).hasMessageContaining("TLS handshake failed")
                .hasRootCauseInstanceOf(CertificateException.class); // the JDK checked the name, then the address

        // a name with one address is used as it always was
        try (ControlPlaneClient single = ControlPlaneClient.open(config(URI.create("https://single.outrider.test:"
                + port)))) {
            assertThat(single.snapshotKeys()).contains("\"keys\"");
        }
    }

    private ControlPlaneClientConfig config(URI server) throws Exception {
        TestMesh.Client orders = cp.mesh.workload("shop", "orders");
        StringBuilder chain = new StringBuilder();
        for (var c : orders.chain()) {
            chain.append(TestMesh.pem(c));
        }
        CertificateFiles files = new CertificateFiles(Files.writeString(dir.resolve("cert.pem"), chain),
                Files.writeString(dir.resolve("key.pem"), TestMesh.pkcs8(orders.keys().getPrivate())),
                Files.writeString(dir.resolve("bundle.pem"), TestMesh.pem(cp.mesh.caCertificate())));
        return files.clientConfig(List.of(server), ControlPlaneClientConfig.defaultServerIdentity("cluster.local"));
    }
}
