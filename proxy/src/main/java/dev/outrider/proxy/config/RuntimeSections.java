package dev.outrider.proxy.config;

import dev.outrider.core.document.DocumentFields;

import java.time.Duration;
import java.util.List;

import static dev.outrider.proxy.config.BootstrapFields.duration;
import static dev.outrider.proxy.config.BootstrapFields.enumValue;
import static dev.outrider.proxy.config.BootstrapFields.error;
import static dev.outrider.proxy.config.BootstrapFields.integer;
import static dev.outrider.proxy.config.BootstrapFields.string;

/**
 * The bootstrap file's {@code runtime} (transport, event loops, drain) and {@code accessLog} sections. Pure
 * functions.
 */
final class RuntimeSections {
    private RuntimeSections() {
    }

    static RuntimeConfig runtime(DocumentFields root) {
        DocumentFields n = root.section("runtime", List.of("transport", "eventLoops", "drainTimeout"));
        RuntimeConfig d = BootstrapLoader.DEFAULT_RUNTIME;
        return new RuntimeConfig(
                enumValue(n, "transport", TransportKind.class, d.transport()),
                integer(n, "eventLoops", d.eventLoops(), 0, 1_024),
                duration(n, "drainTimeout", d.drainTimeout(), true, Duration.ofHours(1)));
    }

    static AccessLogConfig accessLog(DocumentFields root) {
        DocumentFields n = root.section("accessLog", List.of("enabled", "path", "queueSize"));
        AccessLogConfig d = BootstrapLoader.DEFAULT_ACCESS_LOG;
        String path = string(n, "path", d.path());
        if (path.isBlank()) {
            throw error(n, "path", "must not be empty ('-' is standard output)");
        }
        return new AccessLogConfig(n.bool("enabled", d.enabled()), path,
                integer(n, "queueSize", d.queueSize(), 1, 1_048_576));
    }
}
