package dev.outrider.proxy.upstream;

import dev.outrider.core.model.SpiffeId;

import java.util.Set;
import java.util.TreeSet;

/** The upstream proved an identity the service may not have: the connection is refused, never used. */
public final class UpstreamIdentityException extends Exception {
    UpstreamIdentityException(String service, SpiffeId actual, Set<SpiffeId> expected) {
        super("upstream identity mismatch for service " + service + ": got " + actual + ", expected "
                + (expected.size() == 1 ? expected.iterator().next().toString() : "one of " + sorted(expected)));
    }

    private static Set<String> sorted(Set<SpiffeId> ids) {
        Set<String> out = new TreeSet<>();
        ids.forEach(id -> out.add(id.toString()));
        return out;
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this; // a property of the peer, not of the code path
    }
}
