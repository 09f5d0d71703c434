package dev.outrider.proxy.runtime;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

import java.util.Locale;

/**
 * The operational log of the sidecar (and of the tools that run one), set up in code: Logback finds this
 * class through {@code META-INF/services/ch.qos.logback.classic.spi.Configurator} before it would look for a
 * {@code logback.xml}, so its XML configurator (Joran, ~250 classes, and the JDK's XML parser, ~115 more: about
 * 0.3 s of a sidecar's start) is never loaded.
 *
 * <p>What it sets up: lines on stderr ({@value #PATTERN}) through an {@link AsyncAppender} that never blocks
 * the calling thread (an event loop must not wait for a slow stderr; when its queue is full, events below
 * WARN are dropped, as Logback's AsyncAppender does); the root level from {@code OUTRIDER_LOG_LEVEL}
 * ({@code TRACE}, {@code DEBUG}, {@code INFO} (default), {@code WARN}, {@code ERROR}, {@code OFF}); Netty's own
 * loggers at WARN. A value of {@code OUTRIDER_LOG_LEVEL} that is not a level is reported on stderr and INFO is
 * used. The access log is not this log: it has its own writer (accesslog/).
 *
 * <p>A Logback configuration file named with {@code -Dlogback.configurationFile=FILE} takes over instead
 * (Logback's own configurators then run as usual), for users who need another layout or appender.
 */
public final class SidecarLogging extends ContextAwareBase implements Configurator {
    static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{36} - %msg%n";
    static final String LEVEL_VARIABLE = "OUTRIDER_LOG_LEVEL";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.start();

        ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
        stderr.setContext(context);
        stderr.setName("STDERR");
        stderr.setTarget("System.err");
        stderr.setEncoder(encoder);
        stderr.start();

        AsyncAppender async = new AsyncAppender();
        async.setContext(context);
        async.setName("ASYNC");
        async.setNeverBlock(true);
        async.addAppender(stderr);
        async.start();

        ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(rootLevel(System.getenv(LEVEL_VARIABLE)));
        root.addAppender(async);
        context.getLogger("io.netty").setLevel(Level.WARN);
        // the Redis client of global rate limits warns on every connect that it chose epoll over io_uring
        context.getLogger("io.lettuce.core.resource.Transports").setLevel(Level.ERROR);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** The root level for the variable's value: INFO when unset or blank; INFO, with a line on stderr, when not a level. */
    static Level rootLevel(String value) {
        if (value == null || value.isBlank()) {
            return Level.INFO;
        }
        Level level = Level.toLevel(value.trim().toUpperCase(Locale.ROOT), null);
        if (level == null) {
            System.err.println("outrider: " + LEVEL_VARIABLE + "=" + value
                    + " is not a log level (TRACE, DEBUG, INFO, WARN, ERROR, OFF); logging at INFO");
            return Level.INFO;
        }
        return level;
    }
}
