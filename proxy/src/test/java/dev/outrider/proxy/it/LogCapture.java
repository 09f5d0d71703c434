package dev.outrider.proxy.it;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects every event logged through the root logger (so every logger that reaches the sidecar's log, at
 * the levels logback.xml lets through) from {@link #start()} to {@link #close()}, synchronously on the
 * logging thread: an event logged before a client saw its effect is already here.
 */
final class LogCapture implements AutoCloseable {
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    private final Collector collector = new Collector();

    private LogCapture() {
    }

    static LogCapture start() {
        LogCapture capture = new LogCapture();
        capture.collector.setContext(capture.root.getLoggerContext());
        capture.collector.setName("test-capture");
        capture.collector.start();
        capture.root.addAppender(capture.collector);
        return capture;
    }

    /** A copy of what was logged so far. */
    List<ILoggingEvent> events() {
        return collector.events();
    }

    @Override
    public void close() {
        root.detachAppender(collector);
        collector.stop();
    }

    private static final class Collector extends AppenderBase<ILoggingEvent> {
        private final List<ILoggingEvent> events = new ArrayList<>();

        @Override
        protected synchronized void append(ILoggingEvent event) {
            event.prepareForDeferredProcessing();
            events.add(event);
        }

        synchronized List<ILoggingEvent> events() {
            return List.copyOf(events);
        }
    }
}
