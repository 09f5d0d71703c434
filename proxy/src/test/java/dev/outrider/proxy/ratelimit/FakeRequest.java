package dev.outrider.proxy.ratelimit;

import dev.outrider.proxy.authz.RequestAttributes;

import java.util.List;
import java.util.Map;

/** A request as throttling sees it, with settable attributes. */
final class FakeRequest implements RequestAttributes {
    String principal;
    String address = "10.0.0.1";
    String requestPrincipal;
    Map<String, Object> claims = Map.of();
    Map<String, String> headers = Map.of();
    String method = "GET";
    String path = "/api/orders";

    static FakeRequest from(String principal) {
        FakeRequest r = new FakeRequest();
        r.principal = principal;
        return r;
    }

    @Override
    public String sourcePrincipal() {
        return principal;
    }

    @Override
    public String sourceNamespace() {
        return null;
    }

    @Override
    public byte[] sourceIp() {
        return null;
    }

    @Override
    public String sourceAddress() {
        return address;
    }

    @Override
    public String requestPrincipal() {
        return requestPrincipal;
    }

    @Override
    public Object claim(String[] path) {
        return path.length == 1 ? claims.get(path[0]) : null;
    }

    @Override
    public List<String> audiences() {
        return List.of();
    }

    @Override
    public String method() {
        return method;
    }

    @Override
    public String host() {
        return "orders";
    }

    @Override
    public int port() {
        return 8080;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String header(CharSequence lowerCaseName) {
        return headers.get(lowerCaseName.toString());
    }
}
