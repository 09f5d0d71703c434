package dev.outrider.core.model;

import java.util.List;
import java.util.stream.Stream;

import static java.util.Objects.requireNonNull;

/**
 * How sidecars speak to a service's instances, as a Service resource declares it ({@code spec.protocol}) and the
 * workload snapshot carries it to the callers' sidecars (docs/control-plane.md, "Service"; README.md, "Between
 * sidecars"). {@link #wireName()} is the spelling in documents and snapshots.
 */
public enum ServiceProtocol {
    /** Always HTTP/1.1 (pooled keep-alive connections over mTLS, ALPN http/1.1). */
    HTTP1("http1"),
    /** Always HTTP/2 (one mTLS connection per event loop, ALPN h2, every request a stream). */
    HTTP2("http2"),
    /** The caller's protocol: HTTP/1.1 callers over pooled HTTP/1.1, HTTP/2 callers over h2. */
    AUTO("auto");

    /** The protocol of a Service that names none. */
    public static final ServiceProtocol DEFAULT = AUTO;
    /** Every {@link #wireName()}, in declaration order. */
    public static final List<String> WIRE_NAMES = Stream.of(values()).map(ServiceProtocol::wireName).toList();

    private final String wireName;

    ServiceProtocol(String wireName) {
        this.wireName = wireName;
    }

    /** The spelling in Service documents and snapshots: {@code http1}, {@code http2}, {@code auto}. */
    public String wireName() {
        return wireName;
    }

    /**
     * The protocol spelled {@code wireName} (exactly, lower case).
     *
     * @throws IllegalArgumentException naming the value and the accepted ones
     */
    public static ServiceProtocol of(String wireName) {
        requireNonNull(wireName, "wireName");
        for (ServiceProtocol p : values()) {
            if (p.wireName.equals(wireName)) {
                return p;
            }
        }
        throw new IllegalArgumentException("'" + wireName + "' is not a protocol; use " + String.join(", ", WIRE_NAMES));
    }
}
