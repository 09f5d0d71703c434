package dev.outrider.proxy.it;

import dev.outrider.proxy.tls.TestPki;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * A workload's three TLS files in a directory, written the way issuers write them, so reload tests see what a
 * deployment sees:
 * <ul>
 *   <li>{@link Layout#FILES}: each file written next to itself and renamed into place (atomic per file; a
 *       reader may see a new certificate with the old key between two renames);</li>
 *   <li>{@link Layout#KUBERNETES}: a mounted secret; {@code cert.pem → ..data/cert.pem},
 *       {@code ..data → ..<generation>}, and an update renames a new {@code ..data} link over the old one, so all
 *       three files change at once.</li>
 * </ul>
 */
final class TlsFiles {
    enum Layout { FILES, KUBERNETES }

    private static final String CERT = "cert.pem";
    private static final String KEY = "key.pem";
    private static final String BUNDLE = "ca-bundle.pem";

    private final Path dir;
    private final Layout layout;
    /** Test thread only. */
    private int generation;

    private TlsFiles(Path dir, Layout layout) {
        this.dir = dir;
        this.layout = layout;
    }

    static TlsFiles create(Path dir, Layout layout) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new TlsFiles(dir, layout);
    }

    Path certificate() {
        return dir.resolve(CERT);
    }

    Path privateKey() {
        return dir.resolve(KEY);
    }

    Path trustBundle() {
        return dir.resolve(BUNDLE);
    }

    /** Writes {@code leaf}'s chain and key and a bundle of {@code root} then {@code moreRoots}. */
    void write(TestPki.Leaf leaf, TestPki.Ca root, TestPki.Ca... moreRoots) {
        Path staging = staging();
        leaf.writeTo(staging.resolve(CERT), staging.resolve(KEY));
        root.writeBundle(staging.resolve(BUNDLE), moreRoots);
        publish(staging);
    }

    /** Writes the three files' bytes as given (for material that is not even PEM). */
    void writeRaw(byte[] cert, byte[] key, byte[] bundle) {
        Path staging = staging();
        try {
            Files.write(staging.resolve(CERT), cert);
            Files.write(staging.resolve(KEY), key);
            Files.write(staging.resolve(BUNDLE), bundle);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        publish(staging);
    }

    byte[] read(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The {@code tls:} section for these files: {@code provider}, reloads polled every 100 ms. */
    String yaml(String provider) {
        return "tls: {certificate: '%s', privateKey: '%s', trustBundle: '%s', provider: %s, reloadInterval: 100ms}"
                .formatted(certificate(), privateKey(), trustBundle(), provider);
    }

    private Path staging() {
        generation++;
        Path staging = dir.resolve(layout == Layout.KUBERNETES ? "..gen-" + generation : ".staging-" + generation);
        try {
            return Files.createDirectories(staging);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void publish(Path staging) {
        try {
            if (layout == Layout.FILES) {
                for (String name : new String[] {BUNDLE, KEY, CERT}) {
                    Files.move(staging.resolve(name), dir.resolve(name), StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                }
                Files.delete(staging);
                return;
            }
            // As the kubelet does: a new link, renamed over ..data (rename(2) replaces it atomically).
            Path link = dir.resolve("..data_tmp");
            Files.deleteIfExists(link);
            Files.createSymbolicLink(link, staging.getFileName());
            Files.move(link, dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            for (String name : new String[] {CERT, KEY, BUNDLE}) {
                Path file = dir.resolve(name);
                if (!Files.isSymbolicLink(file)) {
                    Files.createSymbolicLink(file, Path.of("..data", name));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
