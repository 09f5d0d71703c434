package dev.outrider.core.client;

import dev.outrider.core.document.Durations;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Errors and values of the contract as the client reads them. */
class ResponsesTest {
    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aServerErrorBodyBecomesOneExceptionWithItsFields() {
        ControlPlaneException e = ApiAnswers.error("PUT /v1/namespaces/shop/authorizationpolicies/a", 400, bytes("""
                {"status": 400, "reason": "Invalid", "message": "'get' is not an HTTP method in upper case",
                 "field": "spec.rules[0].to[0].operation.methods[1]"}"""));

        assertThat(e.status()).isEqualTo(400);
        assertThat(e.reason()).isEqualTo("Invalid");
        assertThat(e.serverMessage()).isEqualTo("'get' is not an HTTP method in upper case");
        assertThat(e.field()).isEqualTo("spec.rules[0].to[0].operation.methods[1]");
        assertThat(e.unreachable()).isFalse();
        assertThat(e.retryable()).isFalse();
        assertThat(e.getMessage()).isEqualTo("PUT /v1/namespaces/shop/authorizationpolicies/a: 400 Invalid: "
                + "spec.rules[0].to[0].operation.methods[1]: 'get' is not an HTTP method in upper case");
    }

    @Test
    void withoutFieldOrReasonTheStatusNamesTheReason() {
        ControlPlaneException e = ApiAnswers.error("GET /v1/sidecars", 403, bytes("{\"message\": \"admin only\"}"));

        assertThat(e.reason()).isEqualTo("Forbidden");
        assertThat(e.field()).isNull();
        assertThat(e.getMessage()).isEqualTo("GET /v1/sidecars: 403 Forbidden: admin only");
    }

    @Test
    void aBodyThatIsNotTheContractsJsonIsQuotedShortAndPrintable() {
        ControlPlaneException e = ApiAnswers.error("GET /v1/health", 502, bytes("<html>\u0007bad gateway" + "x".repeat(400)));

        assertThat(e.reason()).isEqualTo("HTTP502");
        assertThat(e.serverMessage()).startsWith("<html> bad gateway").endsWith("...").hasSize(303);
        assertThat(e.retryable()).isTrue();
    }

    @Test
    void retryableMeansNoAnswerOrAServerSideProblem() {
        URI server = URI.create("https://127.0.0.1:15010");
        ControlPlaneException refused = ControlPlaneException.unreachable("GET /v1/health", server,
                new ConnectException("Connection refused"));
        assertThat(refused.unreachable()).isTrue();
        assertThat(refused.retryable()).isTrue();
        assertThat(refused.status()).isZero();
        assertThat(refused.getMessage()).isEqualTo("GET /v1/health: control plane https://127.0.0.1:15010 unreachable: "
                + "connection refused or unreachable (Connection refused)");
        assertThat(ControlPlaneException.unreachable("x", server, new HttpTimeoutException("request timed out"))
                .getMessage()).contains("timed out");
        assertThat(ControlPlaneException.server("x", 503, null, "", null).retryable()).isTrue();
        assertThat(ControlPlaneException.server("x", 429, null, "", null).retryable()).isTrue();
        assertThat(ControlPlaneException.server("x", 404, null, "", null).retryable()).isFalse();
        assertThat(ControlPlaneException.server("x", 401, null, "", null).retryable()).isFalse();
    }

    @Test
    void successfulAnswersMustBeJsonObjects() {
        assertThat(ApiAnswers.object("c", 200, bytes("{\"a\": 1}")).path("a").asInt()).isEqualTo(1);
        assertThatThrownBy(() -> ApiAnswers.object("c", 200, bytes("[1]")))
                .isInstanceOf(ControlPlaneException.class).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> ApiAnswers.object("c", 200, bytes("nope")))
                .isInstanceOf(ControlPlaneException.class).hasMessageContaining("not JSON");
    }

    @Test
    void durations() {
        assertThat(Durations.parse("60s")).isEqualTo(Duration.ofSeconds(60));
        assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThatThrownBy(() -> Durations.parse("1 hour")).hasMessageContaining("'1 hour' is not a duration");
        assertThatThrownBy(() -> Durations.parse("-5s")).isInstanceOf(IllegalArgumentException.class);
        assertThat(Durations.format(Duration.ofHours(1))).isEqualTo("1h");
        assertThat(Durations.format(Duration.ofMinutes(90))).isEqualTo("90m");
        assertThat(Durations.format(Duration.ofSeconds(45))).isEqualTo("45s");
    }

    @Test
    void urlSegmentsCannotChangeThePath() {
        assertThat(ControlPlaneClient.segment("name", "orders-allow")).isEqualTo("orders-allow");
        for (String bad : new String[] {"..", "a/b", "a?b", "", "-a", "a b", "%2e"}) {
            assertThatThrownBy(() -> ControlPlaneClient.segment("name", bad))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name '" + bad + "'");
        }
    }

    @Test
    void configIsCheckedAndDoesNotPrintTheToken() {
        var config = new ControlPlaneClientConfig(URI.create("HTTPS://cp.example:15010/"),
                ControlPlaneClientConfig.defaultServerIdentity("cluster.local"), java.nio.file.Path.of("ca.pem"),
                null, null, "s3cret", Duration.ofSeconds(1), Duration.ofSeconds(1));
        assertThat(config.server()).isEqualTo(URI.create("https://cp.example:15010"));
        assertThat(config.toString()).doesNotContain("s3cret").contains("<redacted>");
        assertThatThrownBy(() -> config.withBearerToken("two words")).hasMessageContaining("printable ASCII");
        assertThatThrownBy(() -> new ControlPlaneClientConfig(URI.create("https://cp.example:15010/v1"),
                config.serverIdentity(), config.trustBundle(), null, null, null, Duration.ofSeconds(1), Duration.ofSeconds(1)))
                .hasMessageContaining("without path");
        assertThat(new JoinToken("tok3n", config.serverIdentity(), java.time.Instant.EPOCH).toString()).doesNotContain("tok3n");
    }
}
