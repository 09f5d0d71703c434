package dev.outrider.control.model;

import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * A service in a namespace: the key of routes, endpoints and (later) expected identities. Names follow
 * Kubernetes DNS labels (RFC 1123: lower-case alphanumerics and '-', at most 63 characters).
 */
public record ServiceName(String name, String namespace) {
    public ServiceName {
        requireNonNull(name, "name");
        requireNonNull(namespace, "namespace");
        if (!DnsLabel.isValid(name)) {
            throw new IllegalArgumentException("service name '" + name + "' is not a DNS label (RFC 1123)");
        }
        if (!DnsLabel.isValid(namespace)) {
            throw new IllegalArgumentException("namespace '" + namespace + "' is not a DNS label (RFC 1123)");
        }
    }

    /**
     * The service a Host header names, in the Kubernetes forms {@code name}, {@code name.ns},
     * {@code name.ns.svc} and {@code name.ns.svc.<clusterDomain>}, with or without {@code :port}, any case.
     * A bare name is in {@code defaultNamespace}. Returns null when the host is none of these forms.
     */
    public static ServiceName fromHost(String host, String defaultNamespace, String clusterDomain) {
        requireNonNull(defaultNamespace, "defaultNamespace");
        requireNonNull(clusterDomain, "clusterDomain");
        if (host == null || host.isEmpty()) {
            return null;
        }
        String h = stripPort(host).toLowerCase(Locale.ROOT);
        if (h.endsWith(".")) {
            h = h.substring(0, h.length() - 1);
        }
        String suffix = ".svc." + clusterDomain;
        if (h.endsWith(suffix)) {
            h = h.substring(0, h.length() - suffix.length());
        } else if (h.endsWith(".svc")) {
            h = h.substring(0, h.length() - 4);
        }
        int dot = h.indexOf('.');
        String name = dot < 0 ? h : h.substring(0, dot);
        String ns = dot < 0 ? defaultNamespace : h.substring(dot + 1);
        if (!DnsLabel.isValid(name) || !DnsLabel.isValid(ns)) {
            return null;
        }
        return new ServiceName(name, ns);
    }

    /** Parses {@code name} or {@code name.namespace}; the message names what is wrong. */
    public static ServiceName parse(String text, String defaultNamespace) {
        requireNonNull(text, "text");
        int dot = text.indexOf('.');
        return dot < 0 ? new ServiceName(text, defaultNamespace)
                : new ServiceName(text.substring(0, dot), text.substring(dot + 1));
    }

    private static String stripPort(String host) {
        if (host.startsWith("[")) {
            return host; // an IPv6 literal is never a service name
        }
        int colon = host.lastIndexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }

    @Override
    public String toString() {
        return name + "." + namespace;
    }
}
