package dev.outrider.proxy.config;

import dev.outrider.core.model.ServiceName;

import static java.util.Objects.requireNonNull;

/**
 * An explicit outbound port. HTTP ({@code protocol: http}, the default): for clients that cannot set Host,
 * every request the local application sends to {@code <outbound host>:port} goes to {@code service}. TCP
 * ({@code protocol: tcp}): every connection the application opens to {@code <outbound host>:port} is carried
 * in mTLS to one of {@code service}'s sidecars and on to that instance's port {@code targetPort}.
 *
 * @param targetPort the service's TCP port (TCP only; 0 for HTTP)
 */
public record UpstreamPortConfig(ServiceName service, int port, Kind protocol, int targetPort) {
    /** What an explicit outbound port carries. */
    public enum Kind { HTTP, TCP }

    public UpstreamPortConfig {
        requireNonNull(service, "service");
        requireNonNull(protocol, "protocol");
        if (protocol == Kind.TCP && (targetPort < 1 || targetPort > 65535)) {
            throw new IllegalArgumentException("a TCP upstream port needs a targetPort (1-65535)");
        }
        if (protocol == Kind.HTTP && targetPort != 0) {
            throw new IllegalArgumentException("targetPort is for TCP upstream ports only");
        }
    }

    /** An HTTP upstream port. */
    public UpstreamPortConfig(ServiceName service, int port) {
        this(service, port, Kind.HTTP, 0);
    }

    public boolean tcp() {
        return protocol == Kind.TCP;
    }
}
