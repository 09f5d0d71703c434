package dev.outrider.proxy.config;

import java.net.InetSocketAddress;

import static java.util.Objects.requireNonNull;

/**
 * A host (name, IPv4 or IPv6 literal without brackets) and a port, as written in the bootstrap file
 * ({@code 127.0.0.1:8080}, {@code [::1]:15001}). Port 0 asks the OS for an ephemeral port (tests).
 */
public record HostPort(String host, int port) {
    public HostPort {
        requireNonNull(host, "host");
        if (host.isEmpty()) {
            throw new IllegalArgumentException("host is empty");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
    }

    /** Parses {@code host:port} or {@code [v6]:port}; the message names what is wrong. */
    public static HostPort parse(String text) {
        requireNonNull(text, "text");
        String s = text.strip();
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException("expected host:port, got '" + text + "'");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("IPv6 hosts need brackets ([::1]:15001), got '" + text + "'");
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port is not a number in '" + text + "'");
        }
        return new HostPort(host, port);
    }

    public InetSocketAddress toAddress() {
        return new InetSocketAddress(host, port);
    }

    /** An unresolved address: resolution happens at connect time on the event loop's resolver. */
    public InetSocketAddress toUnresolvedAddress() {
        return InetSocketAddress.createUnresolved(host, port);
    }

    @Override
    public String toString() {
        return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
    }
}
