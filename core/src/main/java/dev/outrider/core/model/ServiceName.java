package dev.outrider.core.model;

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
        if (host == null || host.isEmpty() || host.charAt(0) == '[') {
            return null; // an IPv6 literal is never a service name
        }
        String h = hasUpperCase(host) ? host.toLowerCase(Locale.ROOT) : host;
        int end = h.lastIndexOf(':');
        if (end < 0) {
            end = h.length();
        }
        if (end > 0 && h.charAt(end - 1) == '.') {
            end--;
        }
        end = withoutSuffix(h, end, clusterDomain);
        int dot = h.indexOf('.');
        if (dot < 0 || dot >= end) {
            return DnsLabel.isValid(h, 0, end) ? new ServiceName(h.substring(0, end), defaultNamespace) : null;
        }
        if (!DnsLabel.isValid(h, 0, dot) || !DnsLabel.isValid(h, dot + 1, end)) {
            return null;
        }
        return new ServiceName(h.substring(0, dot), h.substring(dot + 1, end));
    }

    /** {@code end} without a trailing {@code .svc.<clusterDomain>} or {@code .svc}. */
    private static int withoutSuffix(String h, int end, String clusterDomain) {
        int domainStart = end - clusterDomain.length();
        if (domainStart >= 5 && h.regionMatches(domainStart, clusterDomain, 0, clusterDomain.length())
                && h.startsWith(".svc.", domainStart - 5)) {
            return domainStart - 5;
        }
        if (end >= 4 && h.startsWith(".svc", end - 4)) {
            return end - 4;
        }
        return end;
    }

    private static boolean hasUpperCase(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 'A' && c <= 'Z') {
                return true;
            }
        }
        return false;
    }

    /** Parses {@code name} or {@code name.namespace}; the message names what is wrong. */
    public static ServiceName parse(String text, String defaultNamespace) {
        requireNonNull(text, "text");
        int dot = text.indexOf('.');
        return dot < 0 ? new ServiceName(text, defaultNamespace)
                : new ServiceName(text.substring(0, dot), text.substring(dot + 1));
    }

    @Override
    public String toString() {
        return name + "." + namespace;
    }
}
