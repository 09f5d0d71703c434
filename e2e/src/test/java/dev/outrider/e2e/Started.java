package dev.outrider.e2e;

import java.util.ArrayList;
import java.util.List;

/**
 * The processes and servers one test started (control planes, sidecars, backends), stopped after it, last
 * started first, from the test's {@code @AfterEach}. Not thread-safe: a test starts them from its own thread.
 */
final class Started implements AutoCloseable {
    private final List<AutoCloseable> all = new ArrayList<>();

    /** Remembers {@code c} for {@link #close()} and returns it. */
    <T extends AutoCloseable> T keep(T c) {
        all.add(c);
        return c;
    }

    /** Closes everything, last started first. */
    @Override
    public void close() throws Exception {
        for (int i = all.size() - 1; i >= 0; i--) {
            all.get(i).close();
        }
    }

    /**
     * Closes everything, then fails when a process that runs with Netty's leak detector ({@link MeshProcess})
     * reported a buffer leak in its log.
     */
    void closeAndCheckLeaks() throws Exception {
        close();
        for (AutoCloseable c : all) {
            if (c instanceof MeshProcess p) {
                p.assertNoLeaks();
            }
        }
    }
}
