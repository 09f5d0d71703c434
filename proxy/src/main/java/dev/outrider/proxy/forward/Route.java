package dev.outrider.proxy.forward;

import dev.outrider.proxy.upstream.Cluster;

import static java.util.Objects.requireNonNull;

/** Forward to {@code cluster}. Built when routes are built, shared by every request that takes it. */
public record Route(Cluster cluster) implements RouteResult {
    public Route {
        requireNonNull(cluster, "cluster");
    }
}
