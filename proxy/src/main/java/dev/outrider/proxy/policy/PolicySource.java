package dev.outrider.proxy.policy;

import dev.outrider.proxy.config.DefaultAction;
import dev.outrider.proxy.config.PolicyConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

import static java.util.Objects.requireNonNull;

/**
 * Where the inbound side's policy snapshots come from, chosen once at start-up, and the first snapshot, in force
 * before any listener opens:
 * <ul>
 *   <li><b>the control plane</b> (bootstrap {@code controlPlane} set): fail closed (every inbound request refused
 *       with 503) until its snapshot, or a valid last-known-good one, is applied to {@link #store()} by the
 *       control-plane link;</li>
 *   <li><b>a policy directory</b> ({@code policies.directory}): loaded now (a broken directory fails the start)
 *       and watched, a changed one applied as a new snapshot ({@link PolicyDirectoryWatcher});</li>
 *   <li><b>none</b>: an empty snapshot; {@code policies.defaultAction} decides every request.</li>
 * </ul>
 * Closing stops the directory watcher, if any.
 */
public final class PolicySource implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PolicySource.class);

    private final PolicyStore store;
    /** Null unless the source is a directory. */
    private final PolicyDirectoryWatcher watcher;

    private PolicySource(PolicyStore store, PolicyDirectoryWatcher watcher) {
        this.store = store;
        this.watcher = watcher;
    }

    /** Chooses the source and puts the first snapshot in force. */
    public static PolicySource start(PolicyConfig config, boolean fromControlPlane, WorkloadPolicyCompiler compiler,
                                     PolicyMetrics metrics) {
        requireNonNull(config, "config");
        requireNonNull(compiler, "compiler");
        requireNonNull(metrics, "metrics");
        boolean denyByDefault = config.defaultAction() == DefaultAction.DENY;
        PolicySource source;
        if (fromControlPlane) {
            PolicySnapshot none = compiler.compile("none", "control plane (no snapshot yet)", List.of())
                    .refusing("no policy snapshot from the control plane yet");
            source = fixed(none, metrics);
        } else if (config.directory() != null) {
            PolicyDirectoryWatcher watcher = PolicyDirectoryWatcher.start(config.directory(),
                    config.reloadInterval(), compiler, metrics);
            source = new PolicySource(watcher.store(), watcher);
        } else {
            source = fixed(compiler.compile("none", "no policy source", List.of()), metrics);
            if (denyByDefault) {
                log.warn("no policy source (policies.directory is not set) and policies.defaultAction is deny: "
                        + "every inbound request will be refused with 403");
            }
        }
        if (!denyByDefault) {
            log.warn("policies.defaultAction is allow: inbound requests that no ALLOW policy covers are let through "
                    + "(the mesh default is deny)");
        }
        return source;
    }

    private static PolicySource fixed(PolicySnapshot first, PolicyMetrics metrics) {
        PolicySource source = new PolicySource(new PolicyStore(first), null);
        metrics.retain(first);
        return source;
    }

    /** The snapshot in force; what every inbound request reads once. */
    public PolicyStore store() {
        return store;
    }

    @Override
    public void close() {
        if (watcher != null) {
            watcher.close();
        }
    }
}
