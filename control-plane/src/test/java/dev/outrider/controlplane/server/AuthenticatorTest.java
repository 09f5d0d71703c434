package dev.outrider.controlplane.server;

import dev.outrider.core.model.SpiffeId;
import dev.outrider.controlplane.ca.BootstrapCredential;
import dev.outrider.controlplane.ca.WorkloadIdentity;
import dev.outrider.controlplane.testing.TestMesh;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Who a request is, and whether it may call a route of each {@link Access}: the whole matrix, no sockets. */
class AuthenticatorTest {
    private static final String TOKEN = "admin-token-0123456789";
    private static final SpiffeId ADMIN = SpiffeId.parse("spiffe://cluster.local/ns/outrider-system/sa/admin");
    private static final WorkloadIdentity ORDERS = new WorkloadIdentity("cluster.local", "shop", "orders");

    @TempDir
    static Path dir;
    static X509Certificate orders;
    static X509Certificate admin;

    private final Authenticator authenticator = new Authenticator("cluster.local", Set.of(ADMIN), AdminToken.of(TOKEN));

    @BeforeAll
    static void certificates() throws Exception {
        TestMesh mesh = TestMesh.create(dir);
        orders = mesh.workload("shop", "orders").chain().getFirst();
        admin = mesh.workload("outrider-system", "admin").chain().getFirst();
    }

    @Test
    void certificatesMakeWorkloadsOrAdmins() {
        assertThat(authenticator.authenticate(orders, null)).isEqualTo(new Caller.Workload(ORDERS));
        assertThat(authenticator.authenticate(admin, null)).isEqualTo(new Caller.Admin(
                new WorkloadIdentity("cluster.local", "outrider-system", "admin"), ADMIN.toString()));
    }

    @Test
    void bearerTokens() {
        assertThat(authenticator.authenticate(null, "Bearer " + TOKEN)).isEqualTo(new Caller.Admin(null, "admin token"));
        assertThat(authenticator.authenticate(orders, "bearer " + TOKEN)).isEqualTo(new Caller.Admin(ORDERS, "admin token"));
        Caller other = authenticator.authenticate(null, "Bearer join-token-value");
        assertThat(other).isInstanceOf(Caller.Bearer.class);
        assertThat(other.toString()).doesNotContain("join-token-value");
        assertThat(((Caller.Bearer) other).credential()).isEqualTo(new BootstrapCredential.JoinToken("join-token-value"));
        assertThat(((Caller.Bearer) authenticator.authenticate(null, "Bearer aaa.bbb.ccc")).credential())
                .isEqualTo(new BootstrapCredential.ServiceAccountToken("aaa.bbb.ccc"));
    }

    @Test
    void noProofOrABadHeaderIsAnonymous() {
        assertThat(authenticator.authenticate(null, null))
                .isEqualTo(new Caller.Anonymous("no client certificate and no bearer token"));
        assertThat(authenticator.authenticate(orders, "Basic abc"))
                .isEqualTo(new Caller.Anonymous("Authorization header is not a Bearer token"));
        assertThat(authenticator.authenticate(null, "Bearer   "))
                .isEqualTo(new Caller.Anonymous("Authorization header holds an empty Bearer token"));
    }

    @Test
    void withoutAnAdminTokenEveryTokenIsJustABearer() {
        Authenticator noToken = new Authenticator("cluster.local", Set.of(ADMIN), null);
        assertThat(noToken.authenticate(null, "Bearer " + TOKEN)).isInstanceOf(Caller.Bearer.class);
    }

    @Test
    void certificateOfAnotherTrustDomainOrShapeIsNoWorkload() {
        Authenticator otherDomain = new Authenticator("other.mesh", Set.of(), null);
        assertThat(otherDomain.authenticate(orders, null)).isInstanceOfSatisfying(Caller.Anonymous.class,
                a -> assertThat(a.why()).isEqualTo("client certificate identity spiffe://cluster.local/ns/shop/sa/orders"
                        + " is neither an admin identity nor a workload (spiffe://other.mesh/ns/N/sa/S)"));
    }

    @Test
    void accessMatrix() {
        Caller anonymous = new Caller.Anonymous("no proof");
        Caller bearer = authenticator.authenticate(null, "Bearer join");
        Caller workload = new Caller.Workload(ORDERS);
        Caller adminCaller = new Caller.Admin(null, "admin token");

        for (Caller c : new Caller[] {anonymous, bearer, workload, adminCaller}) {
            Access.PUBLIC.check(c);
        }
        assertStatus(() -> Access.WORKLOAD.check(anonymous), 401);
        assertStatus(() -> Access.WORKLOAD.check(bearer), 401);
        Access.WORKLOAD.check(workload);
        Access.WORKLOAD.check(adminCaller);

        assertStatus(() -> Access.CERTIFICATE.check(anonymous), 401);
        Access.CERTIFICATE.check(bearer);
        Access.CERTIFICATE.check(workload);
        Access.CERTIFICATE.check(adminCaller);

        assertStatus(() -> Access.ADMIN.check(anonymous), 401);
        assertStatus(() -> Access.ADMIN.check(bearer), 401);
        assertStatus(() -> Access.ADMIN.check(workload), 403);
        Access.ADMIN.check(adminCaller);
    }

    @Test
    void adminTokenNeverShowsAndComparesWholeTokens() {
        AdminToken token = AdminToken.of(TOKEN);
        assertThat(token.toString()).isEqualTo("AdminToken[redacted]");
        assertThat(token.matches(TOKEN)).isTrue();
        assertThat(token.matches(TOKEN + "x")).isFalse();
        assertThat(token.matches(TOKEN.substring(1))).isFalse();
        assertThat(token.matches(null)).isFalse();
    }

    private static void assertStatus(Runnable check, int status) {
        assertThatThrownBy(check::run).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.status().code()).isEqualTo(status));
    }
}
