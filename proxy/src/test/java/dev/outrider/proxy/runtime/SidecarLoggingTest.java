package dev.outrider.proxy.runtime;

import ch.qos.logback.classic.AsyncAppender;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SidecarLoggingTest {
    @Test
    void configuresAsynchronousStderrAtInfoWithNettyAtWarn() {
        LoggerContext context = new LoggerContext();
        try {
            SidecarLogging logging = new SidecarLogging();
            logging.setContext(context);

            ExecutionStatus status = logging.configure(context);

            assertThat(status).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
            ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
            assertThat(root.getLevel()).isEqualTo(System.getenv(SidecarLogging.LEVEL_VARIABLE) == null
                    ? Level.INFO : SidecarLogging.rootLevel(System.getenv(SidecarLogging.LEVEL_VARIABLE)));
            AsyncAppender async = (AsyncAppender) root.getAppender("ASYNC");
            assertThat(async).isNotNull();
            assertThat(async.isStarted()).isTrue();
            assertThat(async.isNeverBlock()).isTrue();
            ConsoleAppender<?> stderr = (ConsoleAppender<?>) async.getAppender("STDERR");
            assertThat(stderr.getTarget()).isEqualTo("System.err");
            assertThat(context.getLogger("io.netty").getLevel()).isEqualTo(Level.WARN);
            assertThat(context.getLogger("io.netty.handler.ssl").getEffectiveLevel()).isEqualTo(Level.WARN);
        } finally {
            context.stop();
        }
    }

    @Test
    void aConfigurationFileNamedByTheUserTakesOver() {
        String before = System.getProperty("logback.configurationFile");
        System.setProperty("logback.configurationFile", "custom-logback.xml");
        LoggerContext context = new LoggerContext();
        try {
            SidecarLogging logging = new SidecarLogging();
            logging.setContext(context);

            assertThat(logging.configure(context)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
            assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("ASYNC")).isNull();
        } finally {
            context.stop();
            if (before == null) {
                System.clearProperty("logback.configurationFile");
            } else {
                System.setProperty("logback.configurationFile", before);
            }
        }
    }

    @Test
    void theLevelVariableAcceptsLevelNamesInAnyCase() {
        assertThat(SidecarLogging.rootLevel(null)).isEqualTo(Level.INFO);
        assertThat(SidecarLogging.rootLevel(" ")).isEqualTo(Level.INFO);
        assertThat(SidecarLogging.rootLevel("warn")).isEqualTo(Level.WARN);
        assertThat(SidecarLogging.rootLevel(" DEBUG ")).isEqualTo(Level.DEBUG);
        assertThat(SidecarLogging.rootLevel("off")).isEqualTo(Level.OFF);
    }

    @Test
    void aValueThatIsNotALevelIsReportedAndInfoIsUsed() {
        PrintStream before = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            assertThat(SidecarLogging.rootLevel("verbose")).isEqualTo(Level.INFO);
        } finally {
            System.setErr(before);
        }
        assertThat(captured.toString(StandardCharsets.UTF_8))
                .contains("OUTRIDER_LOG_LEVEL=verbose is not a log level").contains("logging at INFO");
    }
}
