package dev.outrider.controlplane.cli;

import dev.outrider.controlplane.store.EtcdStoreConfig;
import dev.outrider.core.document.Durations;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Where the store is: {@code --store file} (under {@code --data-dir}) or {@code --store etcd://...} with its TLS,
 * prefix and timeout options; shared by the server and the export and import commands.
 */
final class StoreOptions {
    @Option(names = "--store", paramLabel = "file|etcd://HOST:PORT[,HOST:PORT...]", defaultValue = "file",
            description = "Where resources, registrations and join tokens live: files under DATA_DIR/store (one"
                    + " replica), or an etcd cluster shared by every replica (needs --signing-key). Default: ${DEFAULT-VALUE}.")
    private String store;

    @Option(names = "--etcd-ca", paramLabel = "FILE",
            description = "With --store etcd://: talk TLS to etcd, trusting this CA (PEM) for the members' certificates.")
    private Path etcdCa;

    @Option(names = "--etcd-cert", paramLabel = "FILE",
            description = "With --etcd-ca: a client certificate (PEM) for members run with --client-cert-auth. Needs --etcd-key.")
    private Path etcdCert;

    @Option(names = "--etcd-key", paramLabel = "FILE", description = "The private key (PEM) of --etcd-cert.")
    private Path etcdKey;

    @Option(names = "--etcd-prefix", paramLabel = "PREFIX", defaultValue = EtcdStoreConfig.DEFAULT_PREFIX,
            description = "Every etcd key of this control plane starts with it. Default: ${DEFAULT-VALUE}.")
    private String etcdPrefix;

    @Option(names = "--etcd-timeout", paramLabel = "DURATION", defaultValue = "5s",
            description = "How long one store call waits for etcd before the API answers 503. Default: ${DEFAULT-VALUE}.")
    private String etcdTimeout;

    /** The {@code --store} value as given. */
    String uri() {
        return store;
    }

    /**
     * Null for the file store; the etcd store's configuration otherwise. Every etcd option needs the etcd store.
     *
     * @throws IllegalArgumentException naming the option that is wrong
     */
    EtcdStoreConfig etcd() {
        if ("file".equals(store)) {
            for (var given : List.of(new Object[] {"--etcd-ca", etcdCa}, new Object[] {"--etcd-cert", etcdCert},
                    new Object[] {"--etcd-key", etcdKey})) {
                if (given[1] != null) {
                    throw new IllegalArgumentException(given[0] + ": needs --store etcd://HOST:PORT[,HOST:PORT...]");
                }
            }
            return null;
        }
        if (!EtcdStoreConfig.isEtcd(store)) {
            throw new IllegalArgumentException("--store: '" + store + "' is neither file nor etcd://HOST:PORT[,HOST:PORT...]");
        }
        if (etcdCa == null && (etcdCert != null || etcdKey != null)) {
            throw new IllegalArgumentException((etcdCert != null ? "--etcd-cert" : "--etcd-key")
                    + ": needs --etcd-ca (a client certificate is sent over TLS only)");
        }
        Duration timeout;
        try {
            timeout = Durations.parse(etcdTimeout);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--etcd-timeout: " + e.getMessage(), e);
        }
        try {
            List<String> endpoints = EtcdStoreConfig.parseEndpoints(store);
            EtcdStoreConfig.Tls tls = etcdCa == null ? null : EtcdStoreConfig.Tls.read(etcdCa, etcdCert, etcdKey);
            return new EtcdStoreConfig(endpoints, tls, etcdPrefix, timeout);
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            throw new IllegalArgumentException(message.startsWith("--") ? message : "--store: " + message, e);
        }
    }
}
