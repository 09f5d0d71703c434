package dev.outrider.proxy.admin;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

class DrainRequestCheckTest {
    @ParameterizedTest
    @ValueSource(strings = {"localhost", "LocalHost:80", "127.0.0.1", "127.0.0.1:15000", "127.1.2.3:1", "[::1]",
            "[::1]:15000", "[0:0:0:0:0:0:0:1]:8"})
    void loopbackAuthorities(String authority) {
        assertThat(DrainRequestCheck.isLoopbackAuthority(authority)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ":15000", "evil.example", "localhost.", "localhost.evil.example", "127.0.0.1.nip.io",
            "10.0.0.1", "0.0.0.0:15000", "::1", "[::1", "[::1]x", "[::2]:1", "localhost:99999", "localhost:1a",
            "localhost:15000:1", "user@localhost"})
    void otherAuthorities(String authority) {
        assertThat(DrainRequestCheck.isLoopbackAuthority(authority)).isFalse();
    }

    @Test
    void everyConditionIsNeeded() {
        assertThat(DrainRequestCheck.refusal(headers("127.0.0.1:15000", null, "true"))).isEmpty();
        assertThat(DrainRequestCheck.refusal(headers("localhost", "https://localhost:8443", "TRUE"))).isEmpty();

        assertThat(DrainRequestCheck.refusal(headers(null, null, "true"))).get(as(STRING))
                .endsWith("got none");
        assertThat(DrainRequestCheck.refusal(headers("evil.example", null, "true"))).get(as(STRING))
                .contains("Host").contains("'evil.example'");
        assertThat(DrainRequestCheck.refusal(headers("localhost", "http://evil.example", "true"))).get(as(STRING))
                .contains("origin 'http://evil.example'");
        assertThat(DrainRequestCheck.refusal(headers("localhost", "http://localhost/path", "true"))).isPresent();
        assertThat(DrainRequestCheck.refusal(headers("localhost", "file://localhost", "true"))).isPresent();
        assertThat(DrainRequestCheck.refusal(headers("localhost", null, null))).get(as(STRING))
                .contains("X-Outrider-Drain: true");
        assertThat(DrainRequestCheck.refusal(headers("localhost", null, "false"))).isPresent();

        HttpHeaders twoHosts = headers("localhost", null, "true").add("Host", "evil.example");
        assertThat(DrainRequestCheck.refusal(twoHosts)).isPresent();
    }

    private static HttpHeaders headers(String host, String origin, String mark) {
        HttpHeaders h = new DefaultHttpHeaders();
        if (host != null) {
            h.add("Host", host);
        }
        if (origin != null) {
            h.add("Origin", origin);
        }
        if (mark != null) {
            h.add("X-Outrider-Drain", mark);
        }
        return h;
    }
}
