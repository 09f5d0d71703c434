package dev.outrider.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.outrider.core.client.ControlPlaneClient;
import dev.outrider.core.client.ControlPlaneException;
import dev.outrider.core.client.WrittenResource;
import dev.outrider.core.model.ResourceKind;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Writes AuthorizationPolicies of namespace shop through control-plane replicas as a careful client does, one
 * replica after the other. A write answered 2xx is <em>acknowledged</em>. One that got no answer, or a 503, may
 * or may not have been applied: it is read back, from another replica, before it is written again (to the next
 * replica); a replica that gave no answer is left out of the cycle until none is left. So every write ends up
 * stored, acknowledged or found on reading back, or the writer fails saying what it met.
 *
 * <p>One writer thread calls {@link #write}; {@link #outcomes()} and {@link #problems()} may be read from any.
 */
final class ReplicaWriter {
    /** How long one write may take, retries included (etcd electing a leader, a quorum coming back). */
    static final Duration PER_WRITE = Duration.ofSeconds(60);
    private static final Duration PAUSE = Duration.ofMillis(100);

    /**
     * A write that is stored: {@code resourceVersion} from its 2xx answer ({@code acknowledged}) or from reading it
     * back; {@code replica} answered it.
     */
    record Outcome(String name, String resourceVersion, boolean acknowledged, int replica) {
    }

    private final List<ControlPlaneClient> replicas;
    /** Replicas that gave no answer; left out of the cycle. */
    private final Set<Integer> unanswering = ConcurrentHashMap.newKeySet();
    private final List<Outcome> outcomes = new CopyOnWriteArrayList<>();
    private final List<String> problems = new CopyOnWriteArrayList<>();
    /** The writer thread's only. */
    private int next;

    ReplicaWriter(List<ControlPlaneClient> replicas) {
        this.replicas = List.copyOf(replicas);
    }

    /** Writes {@code body} as AuthorizationPolicy shop/{@code name}; returns once it is stored. */
    Outcome write(String name, byte[] body) throws InterruptedException {
        long deadline = System.nanoTime() + PER_WRITE.toNanos();
        while (true) {
            int r = nextReplica(-1);
            try {
                WrittenResource written = replicas.get(r).putResource(ResourceKind.AUTHORIZATION_POLICY,
                        ReplicatedMesh.NAMESPACE, name, body, "application/yaml");
                Outcome o = new Outcome(name, written.resourceVersion(), true, r);
                outcomes.add(o);
                return o;
            } catch (ControlPlaneException e) {
                if (!e.retryable()) {
                    throw new AssertionError("write of " + name + " through replica " + r + " refused: " + e.getMessage());
                }
                problems.add("write of " + name + " through replica " + r + ": " + e.getMessage());
                if (e.unreachable()) {
                    unanswering.add(r);
                }
            }
            Optional<Outcome> stored = readBack(name, r, deadline);
            if (stored.isPresent()) {
                outcomes.add(stored.get());
                return stored.get();
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("write of " + name + " not stored within " + PER_WRITE + "; met: " + problems);
            }
            Thread.sleep(PAUSE.toMillis());
        }
    }

    /**
     * Reads shop/{@code name} from a replica other than {@code notFrom} (any when it is the only one answering):
     * present (what the write left) or absent (404), retried until one replica answers or {@code deadline}.
     */
    private Optional<Outcome> readBack(String name, int notFrom, long deadline) throws InterruptedException {
        while (true) {
            int r = nextReplica(notFrom);
            try {
                JsonNode stored = replicas.get(r).getResource(ResourceKind.AUTHORIZATION_POLICY, ReplicatedMesh.NAMESPACE,
                        name);
                return Optional.of(new Outcome(name, stored.at("/metadata/resourceVersion").asText(), false, r));
            } catch (ControlPlaneException e) {
                if (e.status() == 404) {
                    return Optional.empty();
                }
                problems.add("reading back " + name + " from replica " + r + ": " + e.getMessage());
                if (e.unreachable()) {
                    unanswering.add(r);
                }
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("could not read back " + name + " within " + PER_WRITE + "; met: " + problems);
            }
            Thread.sleep(PAUSE.toMillis());
        }
    }

    /** The next replica of the cycle that answers, other than {@code not} when there is another. */
    private int nextReplica(int not) {
        if (unanswering.size() >= replicas.size()) {
            unanswering.clear(); // none left: try them all again
        }
        for (int k = 0; k < replicas.size(); k++) {
            int r = Math.floorMod(next++, replicas.size());
            if (r != not && !unanswering.contains(r)) {
                return r;
            }
        }
        for (int r = 0; r < replicas.size(); r++) {
            if (!unanswering.contains(r)) {
                return r;
            }
        }
        return not;
    }

    List<Outcome> outcomes() {
        return List.copyOf(outcomes);
    }

    long acknowledged() {
        return outcomes.stream().filter(Outcome::acknowledged).count();
    }

    List<String> problems() {
        return new ArrayList<>(problems);
    }
}
