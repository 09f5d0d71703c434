package dev.outrider.proxy.authz;

import java.util.List;

/**
 * What authorization may look at for a TCP connection ({@link AuthorizationEngine#authorizeTcp}): the caller's
 * identity and address, and the destination port. Everything HTTP has (methods, paths, hosts, headers, a JWT)
 * is absent: {@code null}, or an empty list. Immutable; one per connection.
 *
 * @param sourcePrincipal Istio's form of the caller's SPIFFE ID, or null without a peer certificate
 * @param sourceIp        the caller's address bytes (4 or 16), or null; read, never modified
 * @param port            the application port the connection is for
 */
public record ConnectionAttributes(String sourcePrincipal, String sourceNamespace, byte[] sourceIp,
                                   String sourceAddress, int port) implements RequestAttributes {
    @Override
    public String requestPrincipal() {
        return null;
    }

    @Override
    public Object claim(String[] path) {
        return null;
    }

    @Override
    public List<String> audiences() {
        return List.of();
    }

    @Override
    public String method() {
        return null;
    }

    @Override
    public String host() {
        return null;
    }

    @Override
    public String path() {
        return null;
    }

    @Override
    public String header(CharSequence lowerCaseName) {
        return null;
    }
}
