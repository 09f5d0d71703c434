package dev.outrider.core.identity;

import dev.outrider.core.client.TestPki;
import dev.outrider.core.identity.CertificateStatus.State;
import dev.outrider.core.model.SpiffeId;
import dev.outrider.core.pem.Pem;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Half-life and usability of the certificate files, at fixed instants. */
class CertificateStatusTest {
    static final SpiffeId ORDERS = SpiffeId.parse("spiffe://cluster.local/ns/shop/sa/orders");
    private static final TestPki.Ca MESH = TestPki.Ca.create("mesh");
    private static final Instant ISSUED = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
            .minus(Duration.ofHours(2));
    private static final Instant EXPIRES = ISSUED.plus(Duration.ofHours(24));

    @TempDir
    Path dir;
    private CertificateFiles files;

    @BeforeEach
    void files() {
        files = new CertificateFiles(dir.resolve("cert.pem"), dir.resolve("key.pem"), dir.resolve("bundle.pem"));
    }

    private void writeCertificate(KeyPair keys, String identity, TestPki.Ca ca) throws Exception {
        Files.writeString(files.certificate(), Pem.write(ca.issue(keys.getPublic(), identity, ISSUED, EXPIRES)));
        Files.writeString(files.privateKey(), Pem.pkcs8(keys.getPrivate()));
        Files.writeString(files.trustBundle(), MESH.pem());
    }

    @Test
    void halfLifeIsMidwayBetweenNotBeforeAndNotAfter() {
        assertThat(CertificateStatus.halfLife(ISSUED, EXPIRES)).isEqualTo(ISSUED.plus(Duration.ofHours(12)));
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        assertThat(CertificateStatus.halfLife(t, t.plusSeconds(301))).isEqualTo(t.plusMillis(150_500));
    }

    @Test
    void freshBeforeHalfLifeAgingFromHalfLifeUnusableWhenExpired() throws Exception {
        writeCertificate(TestPki.ecKey(), ORDERS.toString(), MESH);
        Instant half = ISSUED.plus(Duration.ofHours(12));

        CertificateStatus early = CertificateStatus.of(files, ORDERS, ISSUED.plusSeconds(1));
        assertThat(early.state()).isEqualTo(State.FRESH);
        assertThat(early.notBefore()).isEqualTo(ISSUED);
        assertThat(early.notAfter()).isEqualTo(EXPIRES);
        assertThat(early.halfLife()).isEqualTo(half);
        assertThat(CertificateStatus.of(files, ORDERS, half.minusMillis(1)).state()).isEqualTo(State.FRESH);
        assertThat(CertificateStatus.of(files, ORDERS, half).state()).isEqualTo(State.AGING);
        assertThat(CertificateStatus.of(files, ORDERS, EXPIRES.minusSeconds(1)).state()).isEqualTo(State.AGING);
        CertificateStatus expired = CertificateStatus.of(files, ORDERS, EXPIRES);
        assertThat(expired.state()).isEqualTo(State.UNUSABLE);
        assertThat(expired.problem()).contains("not at " + EXPIRES);
        assertThat(CertificateStatus.of(files, ORDERS, ISSUED.minusSeconds(1)).state()).isEqualTo(State.UNUSABLE);
    }

    @Test
    void unusableForAnotherIdentity() throws Exception {
        writeCertificate(TestPki.ecKey(), "spiffe://cluster.local/ns/shop/sa/payments", MESH);

        CertificateStatus status = CertificateStatus.of(files, ORDERS, ISSUED.plusSeconds(1));

        assertThat(status.state()).isEqualTo(State.UNUSABLE);
        assertThat(status.problem()).contains("is for spiffe://cluster.local/ns/shop/sa/payments");
    }

    @Test
    void unusableWhenTheKeyIsAnother() throws Exception {
        writeCertificate(TestPki.ecKey(), ORDERS.toString(), MESH);
        Files.writeString(files.privateKey(), Pem.pkcs8(TestPki.ecKey().getPrivate()));

        CertificateStatus status = CertificateStatus.of(files, ORDERS, ISSUED.plusSeconds(1));

        assertThat(status.state()).isEqualTo(State.UNUSABLE);
        assertThat(status.problem()).contains("does not match");
    }

    @Test
    void unusableWhenNotFromTheBundlesCa() throws Exception {
        writeCertificate(TestPki.ecKey(), ORDERS.toString(), TestPki.Ca.create("other"));

        CertificateStatus status = CertificateStatus.of(files, ORDERS, ISSUED.plusSeconds(1));

        assertThat(status.state()).isEqualTo(State.UNUSABLE);
        assertThat(status.problem()).contains("does not chain to the trust bundle");
    }

    @Test
    void unusableWithoutFiles() {
        CertificateStatus status = CertificateStatus.of(files, ORDERS, ISSUED);

        assertThat(status.state()).isEqualTo(State.UNUSABLE);
        assertThat(status.problem()).contains("no " + files.certificate());
    }

    @Test
    void renewalIsAtHalfLifePlusASmallJitter() {
        Duration lifetime = Duration.ofHours(24);
        Instant half = ISSUED.plus(lifetime.dividedBy(2));
        Random random = new Random(11);
        boolean jittered = false;
        for (int i = 0; i < 500; i++) {
            Instant at = WorkloadCertificates.renewalTime(ISSUED, ISSUED.plus(lifetime), random);
            assertThat(at).isBetween(half, half.plus(WorkloadCertificates.MAX_JITTER));
            jittered |= at.isAfter(half.plus(Duration.ofMinutes(1)));
        }
        assertThat(jittered).isTrue();
        // Short-lived certificates: at most 5 % of the lifetime.
        for (int i = 0; i < 500; i++) {
            Instant at = WorkloadCertificates.renewalTime(ISSUED, ISSUED.plus(Duration.ofMinutes(10)), random);
            assertThat(at).isBetween(ISSUED.plus(Duration.ofMinutes(5)), ISSUED.plus(Duration.ofSeconds(330)));
        }
    }
}
