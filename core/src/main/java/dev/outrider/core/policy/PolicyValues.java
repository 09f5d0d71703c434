package dev.outrider.core.policy;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.outrider.core.document.DocumentFields;
import dev.outrider.core.document.Durations;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

import static dev.outrider.core.document.DocumentFields.quote;

/**
 * Checks of single values of policy documents. Each returns null when the value is acceptable, otherwise the
 * problem (without path; the caller adds it). Pure functions, used once per document, never per request.
 */
final class PolicyValues {
    /** Condition keys without a parameter; see {@link AuthorizationPolicy.Condition}. */
    static final List<String> PLAIN_CONDITION_KEYS = List.of("request.auth.principal", "request.auth.audiences",
            "request.auth.presenter", "source.ip", "source.namespace", "source.principal", "destination.port");
    static final String SUPPORTED_CONDITION_KEYS = "request.auth.claims[<claim>] (nested: [<claim>][<claim>]), "
            + String.join(", ", PLAIN_CONDITION_KEYS.subList(0, 3)) + ", request.headers[<name>], "
            + String.join(", ", PLAIN_CONDITION_KEYS.subList(3, PLAIN_CONDITION_KEYS.size()));

    /** Rate limit keys without a parameter; see {@link RateLimitPolicy.Key}. */
    static final List<String> PLAIN_RATE_LIMIT_KEYS = List.of("source.principal", "request.auth.principal",
            "source.ip");
    static final String SUPPORTED_RATE_LIMIT_KEYS = "source.principal, request.auth.principal,"
            + " request.auth.claims[<claim>] (nested: [<claim>][<claim>]), request.headers[<name>], source.ip";
    static final Duration MIN_PERIOD = Duration.ofMillis(1);
    static final Duration MAX_PERIOD = Duration.ofHours(24);

    private static final String CLAIMS = "request.auth.claims";
    private static final String HEADERS = "request.headers";
    private static final Pattern CLAIM_PATH = Pattern.compile("(\\[[^\\[\\]]+])+");
    /** RFC 9110 §5.6.2 token. */
    private static final Pattern TOKEN = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    /** A token without lower-case letters and without '*' (RFC 9110 §9.1: methods are case-sensitive). */
    private static final Pattern METHOD = Pattern.compile("[!#$%&'+.^_`|~0-9A-Z-]+");
    private static final Pattern PORT = Pattern.compile("[1-9][0-9]{0,4}");
    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    /** Dotted quad only: no leading zeros, no shortened or octal forms that InetAddress would also accept. */
    private static final Pattern IPV4 = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");
    private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");
    private static final Pattern PREFIX_LENGTH = Pattern.compile("0|[1-9][0-9]{0,2}");
    /** RFC 9110 §7.6.1 (and RFC 2616 §13.5.1): meaningful for one connection only, never set from a claim. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "proxy-connection", "keep-alive", "te",
            "transfer-encoding", "trailer", "upgrade", "proxy-authenticate", "proxy-authorization");
    /** Members of a JWK that hold private key material (RFC 7518 §6.2.2, §6.3.2). */
    private static final List<String> PRIVATE_JWK_MEMBERS = List.of("d", "p", "q", "dp", "dq", "qi", "oth");
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private PolicyValues() {
    }

    /**
     * A string match as Istio writes them: exact, {@code prefix*}, {@code *suffix} or {@code *} (presence).
     * A '*' anywhere else would be taken literally by Istio and is refused here as surely a mistake.
     */
    static String pattern(String value) {
        int star = value.indexOf('*');
        if (star < 0 || value.equals("*")) {
            return null;
        }
        if (value.indexOf('*', star + 1) >= 0 || (star != 0 && star != value.length() - 1)) {
            return quote(value) + " may hold one '*', first or last only (exact, prefix*, *suffix or *)";
        }
        return null;
    }

    /** Paths match the normalized path without query: {@code /exact}, {@code /prefix*}, {@code *suffix}, {@code *}. */
    static String path(String value) {
        if (value.charAt(0) != '/' && value.charAt(0) != '*') {
            return quote(value) + " must start with '/' (or '*' for a suffix match)";
        }
        if (value.indexOf('?') >= 0 || value.indexOf('#') >= 0) {
            return quote(value) + " holds a query or fragment; paths are matched without them";
        }
        if (value.indexOf('{') >= 0 || value.indexOf('}') >= 0) {
            return quote(value) + " looks like a path template ({*} or {**}), which is not supported";
        }
        if (value.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            return quote(value) + " holds whitespace or control characters";
        }
        return pattern(value);
    }

    static String method(String value) {
        return METHOD.matcher(value).matches() ? null : quote(value) + " is not an HTTP method in upper case";
    }

    /** Ports are strings in Istio ("8080"); 1-65535, decimal, no sign or leading zero. */
    static String port(String value) {
        if (PORT.matcher(value).matches() && Integer.parseInt(value) <= 65535) {
            return null;
        }
        return quote(value) + " is not a port (1-65535)";
    }

    /**
     * An IPv4 or IPv6 address or CIDR block. The syntax is checked before {@link InetAddress#ofLiteral} is
     * called, which never resolves names and here only confirms the IPv6 forms.
     */
    static String ipBlock(String value) {
        String problem = quote(value) + " is not an IPv4 or IPv6 address or CIDR block";
        int slash = value.indexOf('/');
        String address = slash < 0 ? value : value.substring(0, slash);
        boolean v6 = address.indexOf(':') >= 0;
        if (v6 ? !IPV6_CHARS.matcher(address).matches() : !IPV4.matcher(address).matches()) {
            return problem;
        }
        try {
            InetAddress.ofLiteral(address);
        } catch (IllegalArgumentException e) {
            return problem;
        }
        if (slash >= 0) {
            String length = value.substring(slash + 1);
            if (!PREFIX_LENGTH.matcher(length).matches() || Integer.parseInt(length) > (v6 ? 128 : 32)) {
                return quote(value) + " has a prefix length outside 0-" + (v6 ? 128 : 32);
            }
        }
        return null;
    }

    /** One IPv4 or IPv6 address, as {@link #ipBlock} reads them, without a prefix length. */
    static String ipAddress(String value) {
        if (ipBlock(value) != null) {
            return quote(value) + " is not an IPv4 or IPv6 address";
        }
        return value.indexOf('/') < 0 ? null : quote(value) + " is a CIDR block; name one address";
    }

    /** A {@code when} key: one of {@link #SUPPORTED_CONDITION_KEYS}. */
    static String conditionKey(String key) {
        if (PLAIN_CONDITION_KEYS.contains(key) || claimPath(key) != null) {
            return null;
        }
        String header = headerOfKey(key);
        if (header != null && TOKEN.matcher(header).matches()) {
            return null;
        }
        return quote(key) + " is not a supported condition key; supported: " + SUPPORTED_CONDITION_KEYS;
    }

    /**
     * A rate limit {@code key}: one of {@link #SUPPORTED_RATE_LIMIT_KEYS}, the header a valid name and not a
     * pseudo-header, each claim name non-empty.
     */
    static String rateLimitKey(String key) {
        if (PLAIN_RATE_LIMIT_KEYS.contains(key) || claimPath(key) != null) {
            return null;
        }
        String header = headerOfKey(key);
        if (header != null && !header.isEmpty()) {
            if (header.startsWith(":")) {
                return quote(key) + " names a pseudo-header; a key reads a request header";
            }
            return TOKEN.matcher(header).matches() ? null
                    : quote(key) + ": " + quote(header) + " is not a valid header name";
        }
        if (key.startsWith(CLAIMS + "[")) {
            return quote(key) + " is not a claim key: write request.auth.claims[<claim>] (nested:"
                    + " [<claim>][<claim>]), each claim name non-empty and without brackets";
        }
        return quote(key) + " is not a supported key; supported: " + SUPPORTED_RATE_LIMIT_KEYS;
    }

    /** The claim names of a {@code request.auth.claims[a][b]} key, or null when {@code key} is not one. */
    static List<String> claimPath(String key) {
        if (!key.startsWith(CLAIMS) || !CLAIM_PATH.matcher(key).region(CLAIMS.length(), key.length()).matches()) {
            return null;
        }
        return List.of(key.substring(CLAIMS.length() + 1, key.length() - 1).split(Pattern.quote("]["), -1));
    }

    /** What is between the brackets of a {@code request.headers[name]} key, or null when {@code key} is not one. */
    static String headerOfKey(String key) {
        String open = HEADERS + "[";
        if (key.length() <= open.length() || !key.startsWith(open) || !key.endsWith("]")) {
            return null;
        }
        return key.substring(open.length(), key.length() - 1);
    }

    /**
     * A rate limit period: a duration ({@link Durations}: {@code 1s}, {@code 500ms}, {@code 1m30s}, {@code 24h}) of
     * whole milliseconds, from {@link #MIN_PERIOD} to {@link #MAX_PERIOD}.
     */
    static String period(String value) {
        Duration period;
        try {
            period = Durations.parse(value);
        } catch (Durations.InvalidDurationException e) {
            if (e.tooLarge()) {
                return quote(value) + " is outside 1ms to 24h";
            }
            return quote(value) + " is not a duration: write whole numbers with units d, h, m, s or ms,"
                    + " largest first (e.g. 1s, 500ms, 1m30s)";
        }
        if (period.compareTo(MIN_PERIOD) < 0 || period.compareTo(MAX_PERIOD) > 0) {
            return quote(value) + " is outside 1ms to 24h";
        }
        if (period.getNano() % 1_000_000 != 0) {
            return quote(value) + " is not a whole number of milliseconds";
        }
        return null;
    }

    /** The check for the values of a condition with {@code key} (already accepted by {@link #conditionKey}). */
    static DocumentFields.Check conditionValue(String key) {
        return switch (key) {
            case "source.ip" -> PolicyValues::ipBlock;
            case "destination.port" -> PolicyValues::port;
            default -> PolicyValues::pattern;
        };
    }

    /** A header name (RFC 9110 §5.1), any case. */
    static String headerName(String value) {
        return TOKEN.matcher(value).matches() ? null : quote(value) + " is not a valid header name";
    }

    /** A header a claim may be copied into: not a pseudo-header, not hop-by-hop. */
    static String outputHeader(String value) {
        if (value.startsWith(":")) {
            return quote(value) + " is a pseudo-header";
        }
        String problem = headerName(value);
        if (problem != null) {
            return problem;
        }
        if (HOP_BY_HOP.contains(value.toLowerCase(Locale.ROOT))) {
            return quote(value) + " is a hop-by-hop header";
        }
        return null;
    }

    /** A query parameter name: no separators, whitespace or control characters. */
    static String queryParameter(String value) {
        if (value.chars().anyMatch(c -> c <= ' ' || c == 0x7f || c == '&' || c == '=' || c == '#')) {
            return quote(value) + " is not a query parameter name";
        }
        return null;
    }

    /** Where the issuer publishes its keys: https, or http to a loopback host for development. */
    static String jwksUri(String value) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            return quote(value) + " is not a URI";
        }
        if (!uri.isAbsolute() || uri.getHost() == null) {
            return quote(value) + " is not an absolute URI with a host";
        }
        if (uri.getRawUserInfo() != null) {
            return "must not carry user information";
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (scheme.equals("https") || (scheme.equals("http") && isLoopback(uri.getHost()))) {
            return null;
        }
        return quote(value) + " must use https (http only to localhost, 127.0.0.0/8 or [::1])";
    }

    private static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        String literal = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        boolean v6 = literal.indexOf(':') >= 0;
        if (v6 ? !IPV6_CHARS.matcher(literal).matches() : !IPV4.matcher(literal).matches()) {
            return false;
        }
        try {
            return InetAddress.ofLiteral(literal).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * An inline JWK Set (RFC 7517 §5): a JSON object with a non-empty {@code keys} array of objects, none
     * holding private key material. The keys themselves are checked where they are used.
     */
    static String jwks(String value) {
        JsonNode set;
        try {
            set = JSON.readTree(value);
        } catch (JacksonException e) {
            // The parser's message may quote the text; name only the place.
            var at = e.getLocation();
            return "is not valid JSON" + (at == null ? "" : " (line " + at.getLineNr() + ", column "
                    + at.getColumnNr() + ")");
        }
        if (set == null || !set.isObject()) {
            return "is not a JWK Set: expected a JSON object with \"keys\"";
        }
        JsonNode keys = set.get("keys");
        if (keys == null || !keys.isArray()) {
            return "is not a JWK Set: expected a \"keys\" array";
        }
        if (keys.isEmpty()) {
            return "is a JWK Set without keys";
        }
        for (int i = 0; i < keys.size(); i++) {
            JsonNode key = keys.get(i);
            if (!key.isObject()) {
                return "keys[" + i + "] is not a JSON object";
            }
            for (String member : PRIVATE_JWK_MEMBERS) {
                if (key.has(member)) {
                    return "keys[" + i + "] holds private key material (\"" + member + "\"); publish the public key only";
                }
            }
        }
        return null;
    }
}
