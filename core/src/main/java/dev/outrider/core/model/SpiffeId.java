package dev.outrider.core.model;

import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

import static java.util.Objects.requireNonNull;

/**
 * A SPIFFE ID ({@code spiffe://<trust-domain>/<path>}, SPIFFE ID specification §2): the identity a workload
 * proves with the URI SAN of its X.509 certificate. Workloads in the mesh have the Kubernetes form
 * {@code spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>}.
 *
 * <p>Parsing follows the specification's rules: scheme {@code spiffe} (lower case), a trust domain of
 * lower-case letters, digits, '.', '-' and '_', a non-empty path of segments made of letters, digits, '.',
 * '-' and '_' (no empty, "." or ".." segments), no query, fragment, port or user info, at most 2048 bytes.
 */
public record SpiffeId(String trustDomain, String path) {
    private static final String SCHEME = "spiffe://";
    private static final int MAX_LENGTH = 2048;
    /** {@code uniformResourceIdentifier} in {@link X509Certificate#getSubjectAlternativeNames()} (RFC 5280 §4.2.1.6). */
    private static final int SAN_URI = 6;

    public SpiffeId {
        requireNonNull(trustDomain, "trustDomain");
        requireNonNull(path, "path");
        String problem = trustDomainProblem(trustDomain);
        if (problem == null) {
            problem = pathProblem(path);
        }
        if (problem != null) {
            throw new IllegalArgumentException("not a SPIFFE ID: " + problem);
        }
    }

    /** The identity of a Kubernetes service account. */
    public static SpiffeId ofServiceAccount(String trustDomain, String namespace, String serviceAccount) {
        return new SpiffeId(trustDomain, "/ns/" + namespace + "/sa/" + serviceAccount);
    }

    /** Parses {@code spiffe://td/path}; the message says what is wrong. */
    public static SpiffeId parse(String text) {
        requireNonNull(text, "text");
        if (text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("not a SPIFFE ID: longer than " + MAX_LENGTH + " characters");
        }
        if (!text.startsWith(SCHEME)) {
            throw new IllegalArgumentException("not a SPIFFE ID: '" + text + "' does not start with spiffe://");
        }
        int slash = text.indexOf('/', SCHEME.length());
        if (slash < 0) {
            throw new IllegalArgumentException("not a SPIFFE ID: '" + text + "' has no path");
        }
        return new SpiffeId(text.substring(SCHEME.length(), slash), text.substring(slash));
    }

    /**
     * The SPIFFE ID of an X.509-SVID: its one URI SAN (X.509-SVID §2), parsed by {@link #parse}. Only the SANs
     * are read (with the JDK's parser); the chain, validity and key usage are the caller's to check. Callers word
     * the three failures in their own terms:
     *
     * @throws CertificateParsingException the JDK's, when the subject alternative names cannot be read
     * @throws CertificateException        {@code certificate must carry exactly one URI SAN (a SPIFFE ID), found <n>}
     * @throws IllegalArgumentException    {@link #parse}'s, when the one URI SAN is not a SPIFFE ID
     */
    public static SpiffeId fromCertificate(X509Certificate leaf) throws CertificateException {
        Collection<List<?>> sans = requireNonNull(leaf, "leaf").getSubjectAlternativeNames();
        String uri = null;
        int uris = 0;
        if (sans != null) {
            for (List<?> san : sans) {
                if (san.size() >= 2 && Integer.valueOf(SAN_URI).equals(san.get(0))) {
                    uris++;
                    uri = String.valueOf(san.get(1));
                }
            }
        }
        if (uris != 1) {
            throw new CertificateException("certificate must carry exactly one URI SAN (a SPIFFE ID), found " + uris);
        }
        return parse(uri);
    }

    /** The namespace of a {@code /ns/<ns>/sa/<sa>} path, or null for other paths. */
    public String namespace() {
        String[] s = path.split("/");
        return s.length == 5 && s[1].equals("ns") && s[3].equals("sa") ? s[2] : null;
    }

    /** The service account of a {@code /ns/<ns>/sa/<sa>} path, or null for other paths. */
    public String serviceAccount() {
        String[] s = path.split("/");
        return s.length == 5 && s[1].equals("ns") && s[3].equals("sa") ? s[4] : null;
    }

    private static String trustDomainProblem(String td) {
        if (td.isEmpty()) {
            return "empty trust domain";
        }
        for (int i = 0; i < td.length(); i++) {
            char c = td.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
                return "trust domain '" + td + "' has '" + c + "' (allowed: lower-case letters, digits, '.', '-', '_')";
            }
        }
        return null;
    }

    private static String pathProblem(String path) {
        if (path.isEmpty() || path.charAt(0) != '/') {
            return "path '" + path + "' must start with '/'";
        }
        if (path.endsWith("/")) {
            return "path '" + path + "' ends with '/'";
        }
        for (String segment : path.substring(1).split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                return "path '" + path + "' has an empty, '.' or '..' segment";
            }
            for (int i = 0; i < segment.length(); i++) {
                char c = segment.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                        || c == '.' || c == '-' || c == '_')) {
                    return "path '" + path + "' has '" + c + "' (allowed: letters, digits, '.', '-', '_')";
                }
            }
        }
        return null;
    }

    /**
     * Istio's principal form: the ID without its scheme ({@code cluster.local/ns/shop/sa/frontend}), as
     * authorization policies match it.
     */
    public String principal() {
        return trustDomain + path;
    }

    @Override
    public String toString() {
        return SCHEME + trustDomain + path;
    }

    /** For case-insensitive input such as config files: the scheme and trust domain are lower-cased. */
    public static SpiffeId parseLenient(String text) {
        requireNonNull(text, "text");
        int slash = text.indexOf('/', Math.min(text.length(), SCHEME.length()));
        if (slash > 0 && text.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            text = text.substring(0, slash).toLowerCase(Locale.ROOT) + text.substring(slash);
        }
        return parse(text);
    }
}
