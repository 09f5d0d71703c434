package dev.outrider.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code outrider ctl ...} as a process, as an operator runs it: exit code and what it printed. */
record Ctl(int exitCode, String output) {
    /** The tools' command (outrider-tools.jar), which mounts {@code ctl}. */
    static final String MAIN = "dev.outrider.tools.OutriderCommand";

    static Ctl run(Path dir, ControlPlaneProcess cp, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(cp.ctlOptions());
        return run(dir, all);
    }

    /** {@code outrider ctl} with {@code args} alone (the connection options among them). */
    static Ctl run(Path dir, List<String> args) throws Exception {
        List<String> all = new ArrayList<>(List.of("ctl"));
        all.addAll(args);
        Path log = dir.resolve("ctl-" + System.nanoTime() + ".log");
        MeshProcess p = MeshProcess.start(log, MAIN, all);
        if (!p.process.waitFor(60, TimeUnit.SECONDS)) {
            p.kill();
            throw new IllegalStateException("ctl did not finish within 60 s:\n" + p.logText());
        }
        return new Ctl(p.process.exitValue(), p.logText());
    }
}
