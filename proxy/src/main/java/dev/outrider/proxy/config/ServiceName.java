package dev.outrider.proxy.config;

import static java.util.Objects.requireNonNull;

/** A service in a namespace: the key of routes, endpoints and (later) expected identities. */
public record ServiceName(String name, String namespace) {
    public ServiceName {
        requireNonNull(name, "name");
        requireNonNull(namespace, "namespace");
    }

    @Override
    public String toString() {
        return name + "." + namespace;
    }
}
