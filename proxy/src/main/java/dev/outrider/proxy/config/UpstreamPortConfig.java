package dev.outrider.proxy.config;

import dev.outrider.core.model.ServiceName;

import static java.util.Objects.requireNonNull;

/**
 * An explicit outbound port for clients that cannot set Host: everything the local application sends to
 * {@code <outbound host>:port} goes to {@code service}.
 */
public record UpstreamPortConfig(ServiceName service, int port) {
    public UpstreamPortConfig {
        requireNonNull(service, "service");
    }
}
