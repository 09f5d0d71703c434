package dev.outrider.proxy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Makes a leak reported by Netty's leak detector fail the build. Registered for every test class through
 * {@code META-INF/services/org.junit.jupiter.api.extension.Extension} (autodetection is on in
 * {@code junit-platform.properties}); the surefire argLine runs the detector at PARANOID.
 *
 * <p>An appender on the detector's logger collects every {@code LEAK:} report. After each test class the
 * guard asks for a GC and allocates a few buffers (the detector only reports when it tracks the next
 * allocation), then fails the class if anything was reported since the previous check.
 */
public final class LeakGuard implements AfterAllCallback {
    private static final String DETECTOR_LOGGER = ResourceLeakDetector.class.getName();
    private static final LeakAppender APPENDER = install();

    @Override
    public void afterAll(ExtensionContext context) {
        surfaceLeaks();
        assertNoLeakReported(context.getDisplayName());
    }

    /**
     * Fails when the detector reported a leak since the previous check, without a GC first: cheap enough to call
     * after every input of a fuzz test, where it catches what earlier inputs leaked once the detector notices.
     */
    public static void assertNoLeakReported(String during) {
        List<String> leaks = APPENDER.drain();
        if (!leaks.isEmpty()) {
            throw new AssertionError(leaks.size() + " Netty resource leak(s) reported during or before "
                    + during + ":\n" + String.join("\n\n", leaks));
        }
    }

    /** GC, then allocate through every allocator so the detectors poll their reference queues. */
    static void surfaceLeaks() {
        for (int round = 0; round < 3; round++) {
            System.gc();
            try {
                Thread.sleep(20); // lets the reference handler enqueue the collected trackers
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            for (ByteBufAllocator alloc : List.of(ByteBufAllocator.DEFAULT, PooledByteBufAllocator.DEFAULT,
                    UnpooledByteBufAllocator.DEFAULT)) {
                for (int i = 0; i < 64; i++) {
                    ByteBuf b = alloc.buffer(16);
                    b.release();
                    ByteBuf d = alloc.directBuffer(16);
                    d.release();
                }
            }
        }
    }

    private static LeakAppender install() {
        Logger logger = (Logger) LoggerFactory.getLogger(DETECTOR_LOGGER);
        if (logger.getLevel() == null || !logger.isErrorEnabled()) {
            logger.setLevel(Level.ERROR);
        }
        LeakAppender appender = new LeakAppender();
        appender.setContext(logger.getLoggerContext());
        appender.setName("leak-guard");
        appender.start();
        logger.addAppender(appender);
        return appender;
    }

    private static final class LeakAppender extends AppenderBase<ILoggingEvent> {
        private final List<String> leaks = new ArrayList<>();

        @Override
        protected synchronized void append(ILoggingEvent event) {
            if (event.getLevel().isGreaterOrEqual(Level.ERROR)) {
                leaks.add(event.getFormattedMessage());
            }
        }

        synchronized List<String> drain() {
            List<String> copy = List.copyOf(leaks);
            leaks.clear();
            return copy;
        }
    }
}
