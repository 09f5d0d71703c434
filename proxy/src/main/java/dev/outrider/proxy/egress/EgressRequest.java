package dev.outrider.proxy.egress;

import dev.outrider.proxy.authz.RequestAttributes;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;

import java.util.List;

/**
 * A request from the local application to an external service, as the authorization engine sees it on the calling
 * sidecar's outbound path: the source is this workload itself (its principal and namespace; the application is
 * plaintext on loopback, so no address and no JWT), the operation the request's method, Host, the entry port it
 * addressed and its path without query or fragment. One per egress request (the mesh path never makes one).
 */
final class EgressRequest implements RequestAttributes {
    private final String principal;
    private final String namespace;
    private final HttpRequest request;
    private final int port;
    private final String path;

    EgressRequest(String principal, String namespace, HttpRequest request, int port) {
        this.principal = principal;
        this.namespace = namespace;
        this.request = request;
        this.port = port;
        this.path = path(request.uri());
    }

    /** The path of an origin-form ({@code /a?b}) or absolute-form ({@code http://host/a}) request target. */
    static String path(String uri) {
        int start = 0;
        int scheme = uri.indexOf("://");
        if (scheme > 0 && uri.charAt(0) != '/') {
            int slash = uri.indexOf('/', scheme + 3);
            if (slash < 0) {
                return "/";
            }
            start = slash;
        }
        int end = uri.length();
        for (int i = start; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '?' || c == '#') {
                end = i;
                break;
            }
        }
        return start == end ? "/" : uri.substring(start, end);
    }

    @Override
    public String sourcePrincipal() {
        return principal;
    }

    @Override
    public String sourceNamespace() {
        return namespace;
    }

    @Override
    public byte[] sourceIp() {
        return null;
    }

    @Override
    public String sourceAddress() {
        return null;
    }

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
        return request.method().name();
    }

    @Override
    public String host() {
        return request.headers().get(HttpHeaderNames.HOST);
    }

    @Override
    public int port() {
        return port;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String header(CharSequence lowerCaseName) {
        return request.headers().get(lowerCaseName);
    }
}
