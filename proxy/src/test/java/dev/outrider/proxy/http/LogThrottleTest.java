package dev.outrider.proxy.http;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LogThrottleTest {
    private final AtomicLong clock = new AtomicLong(-5_000); // any origin, negative included
    private final LogThrottle throttle = new LogThrottle(1_000, clock::get);

    @Test
    void oneLinePerIntervalWithTheCountOfWhatWasNotLogged() {
        assertThat(throttle.tryLog()).isZero();
        for (int i = 0; i < 7; i++) {
            clock.addAndGet(100);
            assertThat(throttle.tryLog()).isEqualTo(-1);
        }
        clock.addAndGet(300); // 1,000 after the first line
        assertThat(throttle.tryLog()).isEqualTo(7);
        assertThat(throttle.tryLog()).isEqualTo(-1);
        clock.addAndGet(5_000);
        assertThat(throttle.tryLog()).isEqualTo(1);
        clock.addAndGet(1_000);
        assertThat(throttle.tryLog()).isZero();
    }

    @Test
    void theIntervalMustBePositive() {
        assertThatThrownBy(() -> new LogThrottle(0, clock::get)).hasMessageContaining("intervalNanos");
    }
}
