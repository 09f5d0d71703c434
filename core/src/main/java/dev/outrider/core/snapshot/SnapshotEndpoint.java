package dev.outrider.core.snapshot;

import dev.outrider.core.model.ServiceName;
import dev.outrider.core.model.ServiceProtocol;
import dev.outrider.core.model.SpiffeId;

import java.net.URI;
import java.net.URISyntaxException;

import static java.util.Objects.requireNonNull;

/**
 * One endpoint of a service the workload may call, as the control plane compiled it into a
 * {@link WorkloadSnapshot}: where to connect, which SPIFFE identity the server's certificate must prove, and how
 * to speak to it (its Service's {@code spec.protocol}; every endpoint of one service carries the same).
 *
 * @param service  the service (name and namespace) the endpoint belongs to
 * @param address  {@code host:port}; the host a DNS name, an IPv4 address or a bracketed IPv6 address
 *                 ({@code [fd00::7]:8443}), the port 1..65535
 * @param identity the SPIFFE ID the endpoint's server certificate must carry
 * @param protocol the service's protocol between sidecars
 */
public record SnapshotEndpoint(ServiceName service, String address, SpiffeId identity, ServiceProtocol protocol) {
    public SnapshotEndpoint {
        requireNonNull(service, "service");
        requireNonNull(address, "address");
        requireNonNull(identity, "identity");
        requireNonNull(protocol, "protocol");
        String problem = addressProblem(address);
        if (problem != null) {
            throw new IllegalArgumentException("endpoint address '" + address + "' " + problem);
        }
    }

    /** An endpoint of a service whose protocol is {@link ServiceProtocol#AUTO}. */
    public SnapshotEndpoint(ServiceName service, String address, SpiffeId identity) {
        this(service, address, identity, ServiceProtocol.AUTO);
    }

    /** The host part of {@link #address()} (an IPv6 address keeps its brackets). */
    public String host() {
        return address.substring(0, address.lastIndexOf(':'));
    }

    /** The port of {@link #address()}. */
    public int port() {
        return Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    }

    /** Null when {@code address} is a server authority {@code host:port} and nothing else; the JDK's URI parser decides. */
    private static String addressProblem(String address) {
        URI uri;
        try {
            uri = new URI("tcp://" + address);
        } catch (URISyntaxException e) {
            return "is not host:port (" + e.getReason() + ")";
        }
        if (uri.getHost() == null || uri.getUserInfo() != null || !uri.getRawPath().isEmpty()
                || uri.getRawQuery() != null || uri.getRawFragment() != null || !address.equals(uri.getRawAuthority())) {
            return "is not host:port";
        }
        if (uri.getPort() < 1 || uri.getPort() > 65535) {
            return "needs a port 1..65535";
        }
        return null;
    }
}
