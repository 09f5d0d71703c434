package dev.outrider.proxy.authz;

import java.util.List;

/**
 * What authorization may look at, for one request: a read-only view the inbound handler implements over
 * state it already holds (the connection's peer identity and pre-parsed address, the verified JWT, the
 * normalized request line and headers). {@link AuthorizationEngine#authorize} calls these on the event loop
 * of the request, possibly several times each; implementations return what they hold and allocate nothing.
 *
 * <p>Absent values are {@code null} (or an empty list for {@link #audiences()}): an absent value never
 * matches a positive field ({@code principals}, {@code values}, even {@code "*"}) and always matches a
 * negative one ({@code notPrincipals}, {@code notValues}), as in Istio.
 */
public interface RequestAttributes {

    /**
     * The peer's workload identity in Istio's principal form: the SPIFFE ID without its scheme,
     * {@code cluster.local/ns/shop/sa/frontend}; {@code null} without a peer certificate. Policies may write
     * principals with or without {@code spiffe://}; the scheme is stripped when they are compiled.
     */
    String sourcePrincipal();

    /** The peer's namespace ({@code shop} in the principal above); {@code null} when unknown. */
    String sourceNamespace();

    /**
     * The peer's address as parsed once per connection: 4 bytes (IPv4) or 16 bytes (IPv6; an IPv4-mapped
     * address matches IPv4 blocks). The array is read, never kept or modified; {@code null} when unknown.
     */
    byte[] sourceIp();

    /**
     * The peer's address as text, computed once per connection ({@code 10.0.0.7}; IPv6 in Java's full form,
     * {@code 0:0:0:0:0:0:0:1}); {@code null} when unknown. Rate limits keyed on {@code source.ip} use it.
     */
    String sourceAddress();

    /** {@code iss/sub} of the verified JWT; {@code null} when the request carries none. */
    String requestPrincipal();

    /**
     * A claim of the verified JWT, following {@code path} into nested objects ({@code [a][b]} is
     * {@code {"a","b"}}): a {@code String}, a {@code List} of strings, a {@code Number} or a {@code Boolean};
     * {@code null} when absent or without a token. {@code path} belongs to the compiled policy: read it only.
     */
    Object claim(String[] path);

    /** {@code aud} of the verified JWT; empty without a token. Read by index (a {@code RandomAccess} list). */
    List<String> audiences();

    /** The request method as sent ({@code GET}); methods match case-sensitively. */
    String method();

    /** Host or {@code :authority} as sent, possibly with a port ({@code orders.shop:8080}). */
    String host();

    /** The destination port of the connection (the inbound port the request arrived for). */
    int port();

    /** The normalized path, without query or fragment. */
    String path();

    /** The value of the first header named {@code lowerCaseName}; {@code null} when absent. */
    String header(CharSequence lowerCaseName);
}
