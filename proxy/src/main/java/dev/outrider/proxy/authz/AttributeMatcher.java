package dev.outrider.proxy.authz;

import java.util.List;

/**
 * One compiled constraint of a rule: a field of {@code source} or {@code operation}, or one half
 * ({@code values} or {@code notValues}) of a {@code when} condition. Positive: some pattern matches the
 * attribute. Negated ({@code notX}, {@code notValues}): no pattern matches it, which includes an absent
 * attribute, exactly as Istio compiles {@code notX} to {@code not(any(X))}. Immutable; no allocation.
 */
abstract sealed class AttributeMatcher {
    private final boolean negated;

    AttributeMatcher(boolean negated) {
        this.negated = negated;
    }

    final boolean matches(RequestAttributes r) {
        return anyMatches(r) != negated;
    }

    /** Some pattern matches the request's attribute (false when the attribute is absent). */
    abstract boolean anyMatches(RequestAttributes r);

    /**
     * Whether this constrains something only HTTP has (Istio's "HTTP-only fields": request principals, hosts,
     * methods, paths, request headers and the {@code request.auth.*} conditions); a TCP connection has none of
     * them ({@link CompiledRule#matchesTcp}).
     */
    abstract boolean httpOnly();

    static boolean all(AttributeMatcher[] ms, RequestAttributes r) {
        for (AttributeMatcher m : ms) {
            if (!m.matches(r)) {
                return false;
            }
        }
        return true;
    }

    /** Attributes that are plain strings. */
    enum Attr {
        SOURCE_PRINCIPAL, SOURCE_NAMESPACE, REQUEST_PRINCIPAL, METHOD, PATH;

        /** Only HTTP requests carry it; a TCP connection has a source principal and namespace only. */
        boolean httpOnly() {
            return this == REQUEST_PRINCIPAL || this == METHOD || this == PATH;
        }

        String of(RequestAttributes r) {
            return switch (this) {
                case SOURCE_PRINCIPAL -> r.sourcePrincipal();
                case SOURCE_NAMESPACE -> r.sourceNamespace();
                case REQUEST_PRINCIPAL -> r.requestPrincipal();
                case METHOD -> r.method();
                case PATH -> r.path();
            };
        }
    }

    static final class Strings extends AttributeMatcher {
        private final Attr attr;
        private final StringMatcher[] patterns;

        Strings(Attr attr, StringMatcher[] patterns, boolean negated) {
            super(negated);
            this.attr = attr;
            this.patterns = patterns;
        }

        @Override
        boolean httpOnly() {
            return attr.httpOnly();
        }

        @Override
        boolean anyMatches(RequestAttributes r) {
            return StringMatcher.any(patterns, attr.of(r));
        }
    }

    static final class Header extends AttributeMatcher {
        private final String name;
        private final StringMatcher[] patterns;

        Header(String lowerCaseName, StringMatcher[] patterns, boolean negated) {
            super(negated);
            this.name = lowerCaseName;
            this.patterns = patterns;
        }

        @Override
        boolean httpOnly() {
            return true;
        }

        @Override
        boolean anyMatches(RequestAttributes r) {
            return StringMatcher.any(patterns, r.header(name));
        }
    }

    /**
     * Hosts, case-insensitively (RFC 4343). A pattern without a port ({@code orders.shop},
     * {@code *.shop}) is compared with the host part of the request's authority, so it matches with any port
     * or none; a pattern with a port ({@code orders.shop:8080}, {@code orders.shop:*}) with the whole authority.
     */
    static final class Hosts extends AttributeMatcher {
        private final StringMatcher[] patterns;
        private final boolean[] withPort;

        Hosts(List<String> hosts, boolean negated) {
            super(negated);
            patterns = new StringMatcher[hosts.size()];
            withPort = new boolean[hosts.size()];
            for (int i = 0; i < patterns.length; i++) {
                String h = hosts.get(i);
                patterns[i] = StringMatcher.of(h, true);
                withPort[i] = hostEnd(h) < h.length();
            }
        }

        @Override
        boolean httpOnly() {
            return true;
        }

        @Override
        boolean anyMatches(RequestAttributes r) {
            String host = r.host();
            if (host == null) {
                return false;
            }
            int end = hostEnd(host);
            for (int i = 0; i < patterns.length; i++) {
                if (patterns[i].matches(host, withPort[i] ? host.length() : end)) {
                    return true;
                }
            }
            return false;
        }

        /** End of the host in an authority: before {@code :port}; IPv6 literals are bracketed. */
        static int hostEnd(String authority) {
            int colon = authority.lastIndexOf(':');
            if (colon < 0) {
                return authority.length();
            }
            int bracket = authority.lastIndexOf(']');
            if (bracket >= 0) {
                return colon > bracket ? colon : authority.length();
            }
            return authority.indexOf(':') == colon ? colon : authority.length(); // bare IPv6: no port
        }
    }

    static final class Ports extends AttributeMatcher {
        private final int[] ports;

        Ports(int[] ports, boolean negated) {
            super(negated);
            this.ports = ports;
        }

        @Override
        boolean httpOnly() {
            return false;
        }

        @Override
        boolean anyMatches(RequestAttributes r) {
            int port = r.port();
            for (int p : ports) {
                if (p == port) {
                    return true;
                }
            }
            return false;
        }
    }

    static final class Ips extends AttributeMatcher {
        private final IpBlock[] blocks;

        Ips(IpBlock[] blocks, boolean negated) {
            super(negated);
            this.blocks = blocks;
        }

        @Override
        boolean httpOnly() {
            return false;
        }

        @Override
        boolean anyMatches(RequestAttributes r) {
            return IpBlock.any(blocks, r.sourceIp());
        }
    }

    static final class Audiences extends AttributeMatcher {
        private final StringMatcher[] patterns;

        Audiences(StringMatcher[] patterns, boolean negated) {
            super(negated);
            this.patterns = patterns;
        }

        @Override
        boolean httpOnly() {
            return true;
        }

        @Override
        boolean anyMatches(RequestAttributes r) {
            List<String> auds = r.audiences();
            for (int i = 0, n = auds.size(); i < n; i++) {
                if (StringMatcher.any(patterns, auds.get(i))) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * A JWT claim: a string matches a pattern; a list matches when one of its elements does ("contains");
     * a boolean is compared as {@code "true"}/{@code "false"}; a number with an exact numeric pattern by value.
     */
    static final class Claim extends AttributeMatcher {
        private final String[] path;
        private final StringMatcher[] patterns;

        Claim(String[] path, StringMatcher[] patterns, boolean negated) {
            super(negated);
            this.path = path;
            this.patterns = patterns;
        }

        @Override
        boolean httpOnly() {
            return true;
        }

        @Override
        boolean anyMatches(RequestAttributes r) {
            Object v = r.claim(path);
            if (v instanceof List<?> list) {
                for (int i = 0, n = list.size(); i < n; i++) {
                    if (scalar(list.get(i))) {
                        return true;
                    }
                }
                return false;
            }
            return scalar(v);
        }

        private boolean scalar(Object v) {
            if (v instanceof String s) {
                return StringMatcher.any(patterns, s);
            }
            if (v instanceof Boolean b) {
                return StringMatcher.any(patterns, b ? "true" : "false");
            }
            if (v instanceof Number n) {
                for (StringMatcher m : patterns) {
                    if (m.matchesNumber(n)) {
                        return true;
                    }
                }
            }
            return false;
        }
    }
}
