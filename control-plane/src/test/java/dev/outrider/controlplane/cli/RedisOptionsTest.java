package dev.outrider.controlplane.cli;

import dev.outrider.controlplane.ControlPlaneConfig;
import dev.outrider.core.snapshot.RedisSettings;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code --redis}, {@code --redis-password-file} and {@code --redis-timeout}: the Redis of global rate limits the
 * control plane passes on to sidecars; errors name the option.
 */
class RedisOptionsTest {

    private static ControlPlaneConfig config(String... extra) {
        return MainOptions.config(extra);
    }

    @Test
    void noneByDefault() {
        assertThat(config().rateLimitRedis()).isNull();
    }

    @Test
    void aRedisWithItsPasswordFileAndTimeout() {
        assertThat(config("--redis", "rediss://outrider@redis.shop:6380/2", "--redis-password-file",
                "/run/secrets/redis", "--redis-timeout", "20ms").rateLimitRedis())
                .isEqualTo(new RedisSettings(URI.create("rediss://outrider@redis.shop:6380/2"),
                        Path.of("/run/secrets/redis"), Duration.ofMillis(20)));
        assertThat(config("--redis", "redis://redis:6379").rateLimitRedis().timeout()).as("default")
                .isEqualTo(RedisSettings.DEFAULT_TIMEOUT);
        assertThat(config("--redis", "redis://redis:6379").rateLimitRedis().cluster()).isFalse();
        assertThat(config("--redis", "redis://redis-0.redis:6379", "--redis-cluster").rateLimitRedis().cluster())
                .isTrue();
    }

    @Test
    void badValuesAreRefusedNamingTheOption() {
        assertThatThrownBy(() -> config("--redis", "http://redis:6379"))
                .hasMessageStartingWith("--redis: 'http://redis:6379' is not a Redis URI (redis://, rediss://");
        assertThatThrownBy(() -> config("--redis", "redis://:secret@redis:6379"))
                .hasMessage("--redis: holds a password: put the password in a file and name that file instead");
        assertThatThrownBy(() -> config("--redis", "redis://redis:6379", "--redis-timeout", "11s"))
                .hasMessageStartingWith("--redis-timeout: timeout PT11S must be positive and at most");
        assertThatThrownBy(() -> config("--redis", "redis://redis:6379", "--redis-timeout", "soon"))
                .hasMessageStartingWith("--redis-timeout: ");
        assertThatThrownBy(() -> config("--redis-password-file", "/run/secrets/redis"))
                .hasMessage("--redis-password-file: needs --redis");
        assertThatThrownBy(() -> config("--redis-timeout", "5ms")).hasMessage("--redis-timeout: needs --redis");
        assertThatThrownBy(() -> config("--redis-cluster")).hasMessage("--redis-cluster: needs --redis");
        assertThatThrownBy(() -> config("--redis", "redis-sentinel://s1:26379/0#main", "--redis-cluster"))
                .hasMessage("--redis: a Sentinel URI names a monitored primary, not a cluster node");
    }
}
