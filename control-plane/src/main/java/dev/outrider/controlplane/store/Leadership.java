package dev.outrider.controlplane.store;

/**
 * This process's place in an election among the processes sharing a store ({@link Store#campaign}). Work that
 * must run once across replicas asks {@link #isLeader()} each time it is about to run: leadership can be lost at
 * any moment (a lease not renewed), so it is a hint that makes duplicate work rare, never a lock that makes it
 * impossible; such work is written to be harmless when two replicas do it at once.
 */
public interface Leadership extends AutoCloseable {
    /** The single process of a store nobody shares: it always leads. */
    Leadership ALWAYS = new Leadership() {
        @Override
        public boolean isLeader() {
            return true;
        }

        @Override
        public void close() {
        }
    };

    /** Whether this process leads now. */
    boolean isLeader();

    /** Leaves the election (resigning when leading). */
    @Override
    void close();
}
