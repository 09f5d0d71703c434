package dev.outrider.core.identity;

import dev.outrider.core.client.Backoff;
import dev.outrider.core.client.BootstrapToken;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneClientConfig;
import dev.outrider.core.client.IssuedCertificate;
import dev.outrider.core.client.TestPki;
import dev.outrider.core.identity.CertificateBootstrapException.Reason;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.pem.Pem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.CertificateException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Bootstrap decisions that need no control plane (the client points at a closed port, so any call would fail), and
 * the installation of an issued certificate.
 */
class WorkloadCertificatesTest {
    private static final SpiffeId ORDERS = CertificateStatusTest.ORDERS;
    private static final SpiffeId CONTROL_PLANE = ControlPlaneClientConfig.defaultServerIdentity("cluster.local");
    private static final TestPki.Ca MESH = TestPki.Ca.create("mesh");

    @TempDir
    Path dir;
    private CertificateFiles files;
    private ControlPlaneClient client;
    private final AtomicInteger renewed = new AtomicInteger();

    @BeforeEach
    void setUp() throws Exception {
        files = new CertificateFiles(dir.resolve("cert.pem"), dir.resolve("key.pem"), dir.resolve("bundle.pem"));
        Files.writeString(files.trustBundle(), MESH.pem()); // the mesh CA is there before bootstrap
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        client = ControlPlaneClient.open(files.clientConfig(
                URI.create("https://127.0.0.1:" + closedPort), CONTROL_PLANE));
    }

    @AfterEach
    void tearDown() {
        client.close();
    }

    private WorkloadCertificates start(Optional<BootstrapToken> token, Clock clock, Duration timeout) throws Exception {
        Random random = new Random(1);
        return WorkloadCertificates.start(client, files, ORDERS, () -> token, clock, renewed::incrementAndGet,
                timeout, random, new Backoff(Duration.ofMillis(10), Duration.ofMillis(40), random));
    }

    private KeyPair writeCertificate(Instant notBefore, Instant notAfter) throws Exception {
        KeyPair keys = TestPki.ecKey();
        Files.writeString(files.certificate(), Pem.write(MESH.issue(keys.getPublic(), ORDERS.toString(), notBefore, notAfter)));
        Files.writeString(files.privateKey(), Pem.pkcs8(keys.getPrivate()));
        return keys;
    }

    @Test
    void aFreshCertificateOnDiskIsUsedWithoutAnyNetworkCall() throws Exception {
        Instant now = Instant.now();
        Instant notBefore = now.minus(Duration.ofHours(1));
        Instant notAfter = now.plus(Duration.ofHours(23));
        writeCertificate(notBefore, notAfter);
        String before = Files.readString(files.certificate());

        try (WorkloadCertificates certificates = start(Optional.empty(), Clock.systemUTC(), Duration.ofSeconds(5))) {
            assertThat(certificates.notAfter()).isEqualTo(notAfter.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
            assertThat(certificates.lastError()).isEmpty(); // a call to the closed port would have failed
            Instant half = CertificateStatus.halfLife(notBefore.truncatedTo(java.time.temporal.ChronoUnit.SECONDS),
                    certificates.notAfter());
            assertThat(certificates.nextRenewal()).isBetween(half, half.plus(WorkloadCertificates.MAX_JITTER));
        }
        assertThat(Files.readString(files.certificate())).isEqualTo(before);
        assertThat(renewed).hasValue(0);
    }

    @Test
    void withoutCertificateOrJoinTokenStartFailsNamingTheMissingToken() {
        CertificateBootstrapException e = catchThrowableOfType(CertificateBootstrapException.class,
                () -> start(Optional.empty(), Clock.systemUTC(), Duration.ofMillis(300)));

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.NO_BOOTSTRAP_TOKEN);
        assertThat(e.getMessage()).contains("no usable certificate (no " + files.certificate() + ")")
                .contains("no bootstrap token (join token or service-account token)").contains(ORDERS.toString());
    }

    @Test
    void anUnreachableControlPlaneIsNamedAndTheTokenIsNot() {
        String token = "s3cr3t-join-token";

        CertificateBootstrapException e = catchThrowableOfType(CertificateBootstrapException.class,
                () -> start(Optional.of(BootstrapToken.joinToken(token)), Clock.systemUTC(), Duration.ofMillis(300)));

        assertThat(e).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.UNREACHABLE);
        assertThat(e.getMessage()).contains("unreachable").contains(client.config().server().toString())
                .doesNotContain(token);
        assertThat(renewed).hasValue(0);
    }

    @Test
    void anExpiredCertificateNeedsAJoinToken() throws Exception {
        Instant now = Instant.now();
        writeCertificate(now.minus(Duration.ofHours(25)), now.minus(Duration.ofHours(1)));

        CertificateBootstrapException e = catchThrowableOfType(CertificateBootstrapException.class,
                () -> start(Optional.empty(), Clock.systemUTC(), Duration.ofMillis(100)));

        assertThat(e.reason()).isEqualTo(Reason.NO_BOOTSTRAP_TOKEN);
        assertThat(e.getMessage()).contains("not at");
    }

    @Test
    void anAgingCertificateIsUsedWhileRenewalFails() throws Exception {
        Instant now = Instant.now();
        Instant notAfter = now.plus(Duration.ofHours(2)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        writeCertificate(now.minus(Duration.ofHours(22)), notAfter);

        try (WorkloadCertificates certificates = start(Optional.empty(), Clock.systemUTC(), Duration.ofSeconds(30))) {
            assertThat(certificates.notAfter()).isEqualTo(notAfter);
            assertThat(certificates.lastError()).hasValueSatisfying(error -> assertThat(error).contains("unreachable"));
            assertThat(certificates.nextRenewal()).isBefore(Instant.now().plusSeconds(1)); // retried soon, with backoff
        }
    }

    @Test
    void installWritesBundleKeyAndCertificateThatThenAreFresh() throws Exception {
        CertificateRequests.KeyAndCsr request = CertificateRequests.create(ORDERS);
        IssuedCertificate issued = issue(request.keys(), ORDERS.toString(), MESH);

        CertificateInstaller.install(files, ORDERS, request.keys(), issued, Instant.now());

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.privateKey()))).isEqualTo("rw-------");
        assertThat(pkcs8(Files.readString(files.privateKey()))).as("PKCS#8").isNotNull();
        assertThat(Pem.privateKey(Files.readAllBytes(files.privateKey()))).isEqualTo(request.keys().getPrivate());
        assertThat(Files.readString(files.certificate())).isEqualTo(issued.certificateChainPem());
        assertThat(CertificateStatus.of(files, ORDERS, Instant.now()).state()).isEqualTo(CertificateStatus.State.FRESH);
    }

    @Test
    void installRefusesACertificateForAnotherKeyIdentityOrCaAndWritesNothing() throws Exception {
        CertificateRequests.KeyAndCsr request = CertificateRequests.create(ORDERS);
        String bundle = Files.readString(files.trustBundle());

        assertThatThrownBy(() -> CertificateInstaller.install(files, ORDERS, request.keys(),
                issue(TestPki.ecKey(), ORDERS.toString(), MESH), Instant.now()))
                .isInstanceOf(CertificateException.class).hasMessageContaining("not for the key");
        assertThatThrownBy(() -> CertificateInstaller.install(files, ORDERS, request.keys(),
                issue(request.keys(), "spiffe://cluster.local/ns/shop/sa/payments", MESH), Instant.now()))
                .isInstanceOf(CertificateException.class).hasMessageContaining("is for spiffe://cluster.local/ns/shop/sa/payments");
        TestPki.Ca other = TestPki.Ca.create("other");
        IssuedCertificate foreign = issue(request.keys(), ORDERS.toString(), other);
        assertThatThrownBy(() -> CertificateInstaller.install(files, ORDERS, request.keys(),
                new IssuedCertificate(ORDERS, foreign.certificateChainPem(), MESH.pem(), foreign.notAfter()), Instant.now()))
                .isInstanceOf(CertificateException.class).hasMessageContaining("does not chain");

        assertThat(files.certificate()).doesNotExist();
        assertThat(files.privateKey()).doesNotExist();
        assertThat(Files.readString(files.trustBundle())).isEqualTo(bundle);
    }

    /**
     * The write order's promise, checked by a reader racing many renewals: it reads the certificate, then the key
     * (as the proxy does), and must never find a certificate newer than the key.
     */
    @Test
    void aReaderNeverPairsANewCertificateWithAnOldKey() throws Exception {
        int renewals = 60;
        KeyPair[] keys = new KeyPair[renewals];
        IssuedCertificate[] issued = new IssuedCertificate[renewals];
        for (int i = 0; i < renewals; i++) {
            keys[i] = TestPki.ecKey();
            issued[i] = issue(keys[i], ORDERS.toString(), MESH);
        }
        CertificateInstaller.install(files, ORDERS, keys[0], issued[0], Instant.now());
        java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
        java.util.concurrent.atomic.AtomicReference<String> violation = new java.util.concurrent.atomic.AtomicReference<>();
        AtomicInteger mismatches = new AtomicInteger();
        Thread reader = Thread.ofPlatform().start(() -> {
            while (running.get()) {
                try {
                    String certificate = Files.readString(files.certificate());
                    var key = Pem.privateKey(Files.readAllBytes(files.privateKey()));
                    int certGeneration = -1;
                    int keyGeneration = -1;
                    for (int i = 0; i < renewals; i++) {
                        certGeneration = certificate.equals(issued[i].certificateChainPem()) ? i : certGeneration;
                        keyGeneration = key.equals(keys[i].getPrivate()) ? i : keyGeneration;
                    }
                    if (certGeneration > keyGeneration) {
                        violation.compareAndSet(null, "certificate " + certGeneration + " with key " + keyGeneration);
                    }
                    mismatches.addAndGet(certGeneration != keyGeneration ? 1 : 0);
                } catch (Exception e) {
                    violation.compareAndSet(null, e.toString());
                }
            }
        });
        for (int i = 1; i < renewals; i++) {
            CertificateInstaller.install(files, ORDERS, keys[i], issued[i], Instant.now());
        }
        running.set(false);
        reader.join();

        assertThat(violation.get()).isNull();
    }

    private static IssuedCertificate issue(KeyPair keys, String identity, TestPki.Ca ca) {
        Instant now = Instant.now();
        var cert = ca.issue(keys.getPublic(), identity, now.minusSeconds(60), now.plus(Duration.ofHours(24)));
        return new IssuedCertificate(ORDERS, Pem.write(cert), ca.pem(), cert.getNotAfter().toInstant());
    }

    /** The key in a PEM file, decoded as PKCS#8 by the JDK (a SEC1 or PKCS#1 body would not decode). */
    private static java.security.PrivateKey pkcs8(String pem) throws Exception {
        byte[] der = java.util.Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        return java.security.KeyFactory.getInstance("EC").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(der));
    }
}
