package dev.outrider.proxy.ratelimit;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenBucketTest {
    private final AtomicLong now = new AtomicLong(-5_000_000_000L); // System.nanoTime may be negative too

    @Test
    void fullBucketGivesItsBurstThenTheRate() {
        TokenBucket bucket = new TokenBucket(10, 3, now::get);

        assertThat(bucket.tryAcquire()).isTrue();
        assertThat(bucket.tryAcquire()).isTrue();
        assertThat(bucket.tryAcquire()).isTrue();
        assertThat(bucket.tryAcquire()).isFalse();

        now.addAndGet(99_000_000); // 99 ms: not yet a whole token at 10 per second
        assertThat(bucket.tryAcquire()).isFalse();
        now.addAndGet(1_000_000);
        assertThat(bucket.tryAcquire()).isTrue();
        assertThat(bucket.tryAcquire()).isFalse();

        now.addAndGet(60_000_000_000L); // a long quiet spell refills to the burst, never beyond
        int taken = 0;
        while (bucket.tryAcquire()) {
            taken++;
        }
        assertThat(taken).isEqualTo(3);
    }

    @Test
    void manyThreadsAtOnceTakeExactlyTheBurst() throws Exception {
        TokenBucket bucket = new TokenBucket(1, 1_000, now::get);
        AtomicInteger admitted = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        Thread[] threads = new Thread[8];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 1_000; i++) {
                    if (bucket.tryAcquire()) {
                        admitted.incrementAndGet();
                    }
                }
            });
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(admitted).hasValue(1_000); // 8,000 tries on a frozen clock: no token lost or given twice
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new TokenBucket(0, 1, now::get)).hasMessageContaining("ratePerSecond");
        assertThatThrownBy(() -> new TokenBucket(1, 0, now::get)).hasMessageContaining("burst");
    }
}
