package dev.outrider.proxy.config;

import java.nio.file.Path;
import java.time.Duration;

import static java.util.Objects.requireNonNull;

/**
 * Where the inbound side's policies come from and the mesh-wide rules they are applied with.
 *
 * @param directory      a directory of policy documents (AuthorizationPolicy, RequestAuthentication), watched
 *                       and reloaded on change; null when the sidecar has no policy source (then only
 *                       {@code defaultAction} decides)
 * @param defaultAction  what decides an inbound request when no ALLOW policy applies and no DENY rule matched
 * @param rootNamespace  policies in this namespace apply to every workload of the mesh
 * @param escapedSlashes what inbound path normalization does with {@code %2F} and {@code %5C}
 * @param pathParameters what inbound path normalization does with {@code ;} path parameters
 * @param reloadInterval how often the directory is checked for changed content
 */
public record PolicyConfig(Path directory, DefaultAction defaultAction, String rootNamespace,
                           EscapedSlashes escapedSlashes, PathParameters pathParameters,
                           Duration reloadInterval) {
    public PolicyConfig {
        requireNonNull(defaultAction, "defaultAction");
        requireNonNull(rootNamespace, "rootNamespace");
        requireNonNull(escapedSlashes, "escapedSlashes");
        requireNonNull(pathParameters, "pathParameters");
        requireNonNull(reloadInterval, "reloadInterval");
    }
}
