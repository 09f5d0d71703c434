package dev.outrider.controlplane.store;

import dev.outrider.core.model.DnsLabel;

import java.util.Comparator;
import java.util.regex.Pattern;

import static java.util.Objects.requireNonNull;

/**
 * Names one stored resource. {@code kind} is any non-empty ASCII-letter word (the set of kinds is open);
 * {@code namespace} and {@code name} are RFC 1123 DNS labels. Every component is therefore a safe single
 * file-name component (no '.', '/', '\' or empty string), which {@link FileStore} relies on.
 * Ordered by kind, then namespace, then name.
 */
public record ResourceKey(String kind, String namespace, String name) implements Comparable<ResourceKey> {
    private static final Pattern KIND = Pattern.compile("[A-Za-z]+");
    private static final Comparator<ResourceKey> ORDER = Comparator.comparing(ResourceKey::kind)
            .thenComparing(ResourceKey::namespace)
            .thenComparing(ResourceKey::name);

    public ResourceKey {
        requireNonNull(kind, "kind");
        requireNonNull(namespace, "namespace");
        requireNonNull(name, "name");
        requireKind(kind);
        requireNamespace(namespace);
        if (!DnsLabel.isValid(name)) {
            throw new IllegalArgumentException("name '" + name + "' is not a DNS label (RFC 1123)");
        }
    }

    /** True when {@code kind} is a non-empty word of ASCII letters. */
    static boolean isKind(String kind) {
        return KIND.matcher(kind).matches();
    }

    /** Throws when {@code kind} is not a non-empty word of ASCII letters. */
    static void requireKind(String kind) {
        if (!isKind(kind)) {
            throw new IllegalArgumentException("kind '" + kind + "' is not a non-empty word of letters [A-Za-z]+");
        }
    }

    /** Throws when {@code namespace} is not a DNS label. */
    static void requireNamespace(String namespace) {
        if (!DnsLabel.isValid(namespace)) {
            throw new IllegalArgumentException("namespace '" + namespace + "' is not a DNS label (RFC 1123)");
        }
    }

    @Override
    public int compareTo(ResourceKey other) {
        return ORDER.compare(this, other);
    }

    /** {@code kind/namespace/name}, the form error messages use. */
    @Override
    public String toString() {
        return kind + "/" + namespace + "/" + name;
    }
}
