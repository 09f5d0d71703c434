package dev.outrider.proxy;

import dev.outrider.proxy.SidecarArguments.Help;
import dev.outrider.proxy.SidecarArguments.Parsed;
import dev.outrider.proxy.SidecarArguments.Refused;
import dev.outrider.proxy.SidecarArguments.Run;
import dev.outrider.proxy.SidecarArguments.Version;
import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.config.ConfigException;
import dev.outrider.proxy.config.HostPort;
import dev.outrider.proxy.policy.PolicyDirectoryWatcher;
import dev.outrider.proxy.runtime.HeapRelease;
import dev.outrider.proxy.tls.TlsMaterialException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintWriter;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

import static java.util.Objects.requireNonNull;

/**
 * The sidecar's entry point (outrider-proxy.jar's Main-Class), {@code outrider proxy --config FILE}: loads the
 * bootstrap file, starts the sidecar, and on SIGTERM or SIGINT drains it; the process exits 0 once the drain has
 * finished. Exit 2 for bad usage or a bad or missing config file, 1 when the sidecar cannot start (a port in use)
 * or fails while running. It builds no command tree: the command line is {@link SidecarArguments}' (the other
 * {@code outrider} tools live in outrider-tools.jar).
 */
public final class SidecarMain {
    private static final Logger log = LoggerFactory.getLogger(SidecarMain.class);

    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    /** Starts a sidecar; {@link Sidecar#start} in production. */
    interface Starter {
        Running start(BootstrapConfig config) throws Exception;
    }

    /** What this entry point needs of a running sidecar. */
    interface Running {
        void drain();

        CompletableFuture<Void> terminated();

        /** The bound addresses, for the start-up log line. */
        String listeners();
    }

    /** Calls the action, with the signal's name, on each shutdown signal. */
    interface ShutdownSignals {
        void install(Consumer<String> action);
    }

    private final Starter starter;
    private final ShutdownSignals signals;

    /** Starts a real sidecar and drains it on SIGTERM and SIGINT. */
    SidecarMain() {
        this(SidecarMain::startSidecar, SidecarMain::installSignalHandlers);
    }

    SidecarMain(Starter starter, ShutdownSignals signals) {
        this.starter = requireNonNull(starter, "starter");
        this.signals = requireNonNull(signals, "signals");
    }

    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        System.exit(new SidecarMain().run(args, out, err));
    }

    /** Runs the command line to its end: the exit code. */
    int run(String[] args, PrintWriter out, PrintWriter err) {
        Parsed parsed = SidecarArguments.parse(args);
        try {
            return switch (parsed) {
                case Run r -> run(r.config(), err);
                case Help h -> {
                    SidecarArguments.USAGE.lines().forEach(out::println);
                    yield EXIT_OK;
                }
                case Version v -> {
                    out.println(version());
                    yield EXIT_OK;
                }
                case Refused r -> {
                    err.println(r.message());
                    if (r.solutions().isEmpty()) {
                        SidecarArguments.USAGE.lines().forEach(err::println);
                    } else {
                        err.println("Possible solutions: " + String.join(", ", r.solutions()));
                    }
                    yield EXIT_USAGE;
                }
            };
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** The jar manifest's Implementation-Version, or {@code dev} when running from classes. */
    static String version() {
        String v = SidecarMain.class.getPackage().getImplementationVersion();
        return "outrider " + (v == null ? "dev" : v);
    }

    private int run(Path config, PrintWriter err) {
        BootstrapConfig cfg;
        try {
            cfg = BootstrapLoader.load(config);
        } catch (ConfigException e) {
            err.println("outrider proxy: " + config + ": " + e.getMessage());
            return EXIT_USAGE;
        }

        Running sidecar;
        try {
            sidecar = starter.start(cfg);
        } catch (TlsMaterialException e) {
            // Bad certificate, key or bundle: a configuration problem, reported like one.
            err.println("outrider proxy: " + config + ": " + e.getMessage());
            return EXIT_USAGE;
        } catch (PolicyDirectoryWatcher.PolicyLoadException e) {
            // Policies that do not load: the sidecar never runs with other policies than the ones configured.
            err.println("outrider proxy: " + config + ": policies: " + e.getMessage());
            return EXIT_USAGE;
        } catch (Exception e) {
            err.println("outrider proxy: cannot start: " + startFailure(cfg, e));
            return EXIT_FAILURE;
        }
        log.info("outrider proxy ready: service {}.{}, {}", cfg.node().service(), cfg.node().namespace(),
                sidecar.listeners());

        signals.install(signal -> {
            log.info("received SIG{}; draining (at most {})", signal, cfg.runtime().drainTimeout());
            sidecar.drain();
        });
        try {
            sidecar.terminated().join();
        } catch (CompletionException e) {
            err.println("outrider proxy: stopped with an error: " + e.getCause());
            return EXIT_FAILURE;
        }
        log.info("outrider proxy drained; exiting");
        return EXIT_OK;
    }

    /**
     * Names the address when a listener could not bind. Netty's native transports report
     * {@code bind(..) failed: Address already in use} without the address, so when the message does not
     * name one of ours, every configured listener is listed.
     */
    static String startFailure(BootstrapConfig cfg, Throwable e) {
        String message = String.valueOf(e.getMessage());
        if (!isBindFailure(e)) {
            return e.getClass().getSimpleName() + ": " + message;
        }
        List<String> listeners = List.of("inbound " + cfg.inbound().listen(), "outbound " + cfg.outbound().listen(),
                "health " + cfg.health(), "admin " + cfg.admin());
        List<HostPort> addresses = List.of(cfg.inbound().listen(), cfg.outbound().listen(), cfg.health(), cfg.admin());
        if (addresses.stream().anyMatch(a -> a.port() != 0 && message.contains(a.toString()))) {
            return message;
        }
        return message + " (one of: " + String.join(", ", listeners)
                + (cfg.outbound().upstreams().isEmpty() ? "" : ", the outbound upstream ports") + ")";
    }

    private static boolean isBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException
                    || (t.getMessage() != null && t.getMessage().contains("Address already in use"))) {
                return true;
            }
        }
        return false;
    }

    private static Running startSidecar(BootstrapConfig cfg) throws Exception {
        Sidecar sidecar = Sidecar.start(cfg);
        HeapRelease.start(); // one sidecar per process here: the heap after a burst of load is its own
        return new Running() {
            @Override
            public void drain() {
                sidecar.drain();
            }

            @Override
            public CompletableFuture<Void> terminated() {
                return sidecar.terminated();
            }

            @Override
            public String listeners() {
                return "inbound " + text(sidecar.inboundAddress()) + ", outbound " + text(sidecar.outboundAddress())
                        + ", health " + text(sidecar.healthAddress()) + ", admin " + text(sidecar.adminAddress())
                        + ", transport " + sidecar.transportName();
            }
        };
    }

    private static String text(InetSocketAddress a) {
        return a == null ? "-" : new HostPort(a.getHostString(), a.getPort()).toString();
    }

    /**
     * SIGTERM (orchestrators) and SIGINT (Ctrl-C) both drain; the JVM runs the handler on its own signal
     * thread, and {@link Running#drain()} returns at once, so nothing blocks there.
     */
    private static void installSignalHandlers(Consumer<String> action) {
        for (String name : List.of("TERM", "INT")) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), s -> action.accept(s.getName()));
        }
    }
}
