package dev.outrider.controlplane.store;

import dev.outrider.core.model.DnsLabel;
import dev.outrider.core.pem.Pem;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.netty.handler.ssl.SslContextBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Where and how {@link EtcdStore} reaches etcd: the {@code --store etcd://HOST:PORT[,HOST:PORT...]} value, TLS
 * (a CA to trust, and optionally a client certificate and key, for members run with {@code --client-cert-auth}),
 * the key prefix and the per-call timeout.
 *
 * @param endpoints {@code host:port} of each member the client may use (IPv6 in brackets)
 * @param tls       null for plaintext (etcd's {@code http://} client URLs); otherwise {@code https://}
 * @param prefix    every key of the store starts with it; starts and ends with '/'
 */
public record EtcdStoreConfig(List<String> endpoints, Tls tls, String prefix, Duration timeout) {
    /** The URI scheme of the store option's etcd form. */
    public static final String SCHEME = "etcd://";
    public static final String DEFAULT_PREFIX = "/outrider/";
    private static final Pattern HOST_PORT = Pattern.compile("(\\[[0-9A-Fa-f:.]+]|[A-Za-z0-9.-]+):([0-9]{1,5})");
    private static final Pattern PREFIX = Pattern.compile("/([A-Za-z0-9._-]+/)*");

    public EtcdStoreConfig {
        endpoints = List.copyOf(requireNonNull(endpoints, "endpoints"));
        requireNonNull(prefix, "prefix");
        requireNonNull(timeout, "timeout");
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no etcd endpoint");
        }
        if (!PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("etcd key prefix '" + prefix + "' must start and end with '/' and"
                    + " hold only letters, digits, '.', '_' and '-' between them");
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("etcd timeout must be positive: " + timeout);
        }
    }

    /**
     * TLS towards etcd, read from PEM files once at start.
     *
     * @param trustedCertificates the CA certificates that sign the members' serving certificates
     * @param clientChain         the client certificate chain (null without client authentication)
     * @param clientKey           its private key (null without client authentication)
     */
    public record Tls(X509Certificate[] trustedCertificates, X509Certificate[] clientChain, PrivateKey clientKey) {
        public Tls {
            requireNonNull(trustedCertificates, "trustedCertificates");
            if ((clientChain == null) != (clientKey == null)) {
                throw new IllegalArgumentException("a client certificate needs its key, and a key its certificate");
            }
        }

        /**
         * Reads the files; {@code cert} and {@code key} are both given or both null.
         *
         * @throws IllegalArgumentException naming the option and file that cannot be read
         */
        public static Tls read(Path ca, Path cert, Path key) {
            requireNonNull(ca, "ca");
            if ((cert == null) != (key == null)) {
                throw new IllegalArgumentException("--etcd-cert and --etcd-key go together: give both or neither");
            }
            X509Certificate[] trusted = certificates("--etcd-ca", ca);
            if (cert == null) {
                return new Tls(trusted, null, null);
            }
            X509Certificate[] chain = certificates("--etcd-cert", cert);
            PrivateKey privateKey;
            try {
                privateKey = Pem.privateKey(Files.readAllBytes(key));
            } catch (IOException | RuntimeException e) {
                throw new IllegalArgumentException("--etcd-key " + key + ": " + e.getMessage(), e);
            }
            if (!Pem.matches(privateKey, chain[0].getPublicKey())) {
                throw new IllegalArgumentException("--etcd-key " + key + " is not the key of --etcd-cert " + cert);
            }
            return new Tls(trusted, chain, privateKey);
        }

        private static X509Certificate[] certificates(String option, Path file) {
            try {
                List<X509Certificate> list = Pem.certificates(Files.readAllBytes(file));
                if (list.isEmpty()) {
                    throw new IllegalArgumentException("no CERTIFICATE block");
                }
                return list.toArray(X509Certificate[]::new);
            } catch (IOException | CertificateException | RuntimeException e) {
                throw new IllegalArgumentException(option + " " + file + ": " + e.getMessage(), e);
            }
        }
    }

    /** True when {@code store} is the etcd form of the store option. */
    public static boolean isEtcd(String store) {
        return store != null && store.startsWith(SCHEME);
    }

    /**
     * Parses {@code etcd://HOST:PORT[,HOST:PORT...]}.
     *
     * @throws IllegalArgumentException naming what is wrong with the value
     */
    public static List<String> parseEndpoints(String store) {
        requireNonNull(store, "store");
        if (!isEtcd(store)) {
            throw new IllegalArgumentException("'" + store + "' is not etcd://HOST:PORT[,HOST:PORT...]");
        }
        String list = store.substring(SCHEME.length());
        if (list.endsWith("/")) {
            list = list.substring(0, list.length() - 1);
        }
        List<String> out = new ArrayList<>();
        for (String endpoint : list.split(",", -1)) {
            var m = HOST_PORT.matcher(endpoint);
            if (!m.matches()) {
                throw new IllegalArgumentException("etcd endpoint '" + endpoint + "' in '" + store
                        + "' is not HOST:PORT (an IPv6 address in brackets)");
            }
            int port = Integer.parseInt(m.group(2));
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("etcd endpoint '" + endpoint + "': port " + port
                        + " is not in 1-65535");
            }
            String host = m.group(1);
            if (!host.startsWith("[") && !Character.isDigit(host.charAt(0)) && !validHostName(host)) {
                throw new IllegalArgumentException("etcd endpoint '" + endpoint + "': '" + host
                        + "' is not a host name");
            }
            if (out.contains(endpoint)) {
                throw new IllegalArgumentException("etcd endpoint '" + endpoint + "' is listed twice in '" + store + "'");
            }
            out.add(endpoint);
        }
        return out;
    }

    private static boolean validHostName(String host) {
        for (String label : host.split("\\.", -1)) {
            if (!DnsLabel.isValid(label.toLowerCase(java.util.Locale.ROOT))) {
                return false;
            }
        }
        return true;
    }

    /**
     * A jetcd client for these endpoints: this config's timeout for connecting and for retries, gRPC keep-alive
     * every 30 s (a dead member is noticed without traffic), and TLS when configured.
     */
    public Client newClient() {
        ClientBuilder builder = Client.builder()
                .endpoints(endpointUris())
                .connectTimeout(timeout)
                .retryMaxDuration(timeout)
                .keepaliveTime(Duration.ofSeconds(30))
                .keepaliveTimeout(Duration.ofSeconds(10));
        if (tls != null) {
            try {
                builder.sslContext(b -> {
                    SslContextBuilder ssl = b.trustManager(tls.trustedCertificates());
                    if (tls.clientKey() != null) {
                        ssl.keyManager(tls.clientKey(), tls.clientChain());
                    }
                });
            } catch (IOException e) {
                throw new UncheckedIOException("etcd TLS: " + e.getMessage(), e);
            }
        }
        return builder.build();
    }

    /** The endpoints as URIs for the client: {@code https://} with TLS, {@code http://} without. */
    public List<URI> endpointUris() {
        String scheme = tls == null ? "http://" : "https://";
        return endpoints.stream().map(e -> URI.create(scheme + e)).toList();
    }

    /** For logs and errors: the endpoints, TLS or not, and the prefix (never key material). */
    public String describe() {
        return SCHEME + String.join(",", endpoints) + (tls == null ? "" : " (TLS"
                + (tls.clientKey() == null ? "" : ", client certificate") + ")") + " " + prefix;
    }
}
