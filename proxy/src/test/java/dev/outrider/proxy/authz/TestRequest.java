package dev.outrider.proxy.authz;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** {@link RequestAttributes} held in fields, for tests; the defaults are a plain mTLS GET from shop/frontend. */
final class TestRequest implements RequestAttributes {
    String sourcePrincipal = "cluster.local/ns/shop/sa/frontend";
    String sourceNamespace = "shop";
    byte[] sourceIp = address("10.1.2.3");
    String requestPrincipal;
    Map<List<String>, Object> claims = new HashMap<>();
    List<String> audiences = List.of();
    String method = "GET";
    String host = "orders.shop.svc.cluster.local";
    int port = 8080;
    String path = "/api/orders";
    Map<String, String> headers = new HashMap<>();

    static TestRequest get(String path) {
        TestRequest r = new TestRequest();
        r.path = path;
        return r;
    }

    TestRequest from(String principal, String namespace) {
        sourcePrincipal = principal;
        sourceNamespace = namespace;
        return this;
    }

    TestRequest method(String m) {
        method = m;
        return this;
    }

    TestRequest host(String h) {
        host = h;
        return this;
    }

    TestRequest port(int p) {
        port = p;
        return this;
    }

    TestRequest ip(String address) {
        sourceIp = address(address.isEmpty() ? null : address);
        return this;
    }

    TestRequest jwt(String principal) {
        requestPrincipal = principal;
        return this;
    }

    TestRequest claim(Object value, String... path) {
        claims.put(List.of(path), value);
        return this;
    }

    TestRequest audiences(String... aud) {
        audiences = List.of(aud);
        return this;
    }

    TestRequest header(String name, String value) {
        headers.put(name, value);
        return this;
    }

    static byte[] address(String address) {
        return address == null ? null : InetAddress.ofLiteral(address).getAddress();
    }

    @Override
    public String sourcePrincipal() {
        return sourcePrincipal;
    }

    @Override
    public String sourceNamespace() {
        return sourceNamespace;
    }

    @Override
    public byte[] sourceIp() {
        return sourceIp;
    }

    @Override
    public String sourceAddress() {
        try {
            return sourceIp == null ? null : java.net.InetAddress.getByAddress(sourceIp).getHostAddress();
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String requestPrincipal() {
        return requestPrincipal;
    }

    @Override
    public Object claim(String[] path) {
        return claims.get(Arrays.asList(path));
    }

    @Override
    public List<String> audiences() {
        return audiences;
    }

    @Override
    public String method() {
        return method;
    }

    @Override
    public String host() {
        return host;
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
        return headers.get(lowerCaseName.toString());
    }

    @Override
    public String toString() {
        return method + " " + host + path + " from " + sourcePrincipal;
    }
}
