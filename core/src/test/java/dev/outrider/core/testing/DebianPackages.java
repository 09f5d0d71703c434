package dev.outrider.core.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Installs the Debian packages a test needs (etcd-server, redis-server, ...) when they are missing: {@code apt-get update}, then
 * {@code apt-get install -y}. Needs root, as CI and the development machines run; otherwise the failure says
 * which package to install by hand.
 */
public final class DebianPackages {
    private static final long TIMEOUT_MINUTES = 10;

    private DebianPackages() {
    }

    /**
     * The path of {@code command} in /usr/bin or /usr/local/bin; when it is in neither, Debian's {@code pkg} is
     * installed first ({@link #install}).
     */
    public static synchronized String command(String command, String pkg) throws IOException, InterruptedException {
        for (String dir : List.of("/usr/bin/", "/usr/local/bin/")) {
            if (Files.isExecutable(Path.of(dir + command))) {
                return dir + command;
            }
        }
        install(pkg);
        if (Files.isExecutable(Path.of("/usr/bin/" + command))) {
            return "/usr/bin/" + command;
        }
        throw new IllegalStateException(pkg + " was installed but /usr/bin/" + command + " is missing");
    }

    /** Installs {@code packages}; throws naming them and apt-get's output when that fails. */
    public static synchronized void install(String... packages) throws IOException, InterruptedException {
        if (!"root".equals(System.getProperty("user.name"))) {
            throw new IllegalStateException("the tests need the Debian package(s) " + String.join(" ", packages)
                    + "; install them (apt-get install " + String.join(" ", packages) + ") or run the tests as root");
        }
        run(List.of("apt-get", "update", "-qq"));
        List<String> install = new ArrayList<>(List.of("apt-get", "install", "-y", "-qq", "--no-install-recommends"));
        install.addAll(List.of(packages));
        run(install);
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " failed: "
                    + new String(out, StandardCharsets.UTF_8));
        }
    }
}
