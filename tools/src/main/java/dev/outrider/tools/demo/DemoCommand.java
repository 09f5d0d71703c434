package dev.outrider.tools.demo;

import dev.outrider.proxy.Sidecar;
import dev.outrider.proxy.config.BootstrapConfig;
import dev.outrider.proxy.config.BootstrapLoader;
import dev.outrider.proxy.config.ConfigException;
import dev.outrider.tools.cli.ExitCodes;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * {@code outrider demo}: a small mesh on loopback, configured the way users configure one. The control plane
 * runs as its own process (store in a temporary directory, CA from {@code certs/mesh-ca.sh}); the example
 * services and policies are applied through its API with {@code outrider ctl apply}; two sidecars get their
 * certificates from its CA with join tokens and their policies and endpoints from its signed snapshots. Then
 * requests through sidecar A to orders show each outcome: allowed, denied (403), unauthenticated (401) and
 * throttled (429). Stays up for curl and {@code ctl} until Ctrl-C unless {@code --once}; everything stops and
 * the temporary directory is removed on the way out.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run a control plane, two sidecars and an echo application on loopback, configure them "
                + "through the control plane's API, and call through them.")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--examples", defaultValue = "examples", paramLabel = "DIR",
            description = "Directory with mesh/ and policies/ (default: ${DEFAULT-VALUE}).")
    private Path examples;

    @Option(names = "--control-plane-jar", defaultValue = "control-plane/target/outrider-control-plane.jar",
            paramLabel = "JAR", description = "The control plane to start (default: ${DEFAULT-VALUE}).")
    private Path controlPlaneJar;

    @Option(names = "--once", description = "Exit after the demo requests instead of staying up for curl.")
    private boolean once;

    @Spec
    private CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // The JDK client refuses to set Host unless allowed; the demo routes by Host, as applications do.
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isDirectory(examples.resolve("mesh")) || !Files.isDirectory(examples.resolve("policies"))) {
            err.println("outrider demo: no examples directory with mesh/ and policies/ at " + examples.toAbsolutePath());
            return ExitCodes.USAGE;
        }
        Path root = examples.toAbsolutePath().getParent();
        Path ca = root.resolve("certs/out/ca");
        if (!ensureCa(root, ca, out, err)) {
            return ExitCodes.FAILURE;
        }
        Path work = Files.createTempDirectory("outrider-demo-");
        logToFile(work.resolve("sidecars.log"));
        DemoMesh mesh = new DemoMesh(examples, work, ca.resolve("ca.pem"), ca.resolve("ca.key"), out);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            mesh.close();
            stopped.countDown();
        }, "outrider-demo-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        boolean ok;
        try {
            mesh.start(controlPlaneJar);
            ok = mesh.drive();
        } catch (Exception e) {
            err.println("outrider demo: " + e.getMessage());
            err.println("logs kept in " + work + " (sidecars.log, control-plane.log)");
            err.flush();
            mesh.keepFiles();
            mesh.close();
            return ExitCodes.FAILURE;
        }
        if (!ok) {
            out.println("an answer was not the expected one; logs kept in " + work
                    + " (sidecars.log, control-plane.log)");
            mesh.keepFiles();
        }
        if (once) {
            mesh.close();
            return ok ? ExitCodes.OK : ExitCodes.FAILURE;
        }
        mesh.printNextSteps();
        out.println("Ctrl-C stops the sidecars and the control plane and removes " + work);
        out.flush();
        stopped.await();
        return ExitCodes.OK;
    }

    /**
     * The sidecars run in this process; their log goes to a file in the work directory so the demo's own
     * output stays readable ({@code OUTRIDER_LOG_LEVEL} still sets the level).
     */
    private static void logToFile(Path file) {
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{36} - %msg%n");
        encoder.start();
        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setName("demo-file");
        appender.setFile(file.toString());
        appender.setEncoder(encoder);
        appender.start();
        ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.detachAndStopAllAppenders();
        root.addAppender(appender);
    }

    /** The development CA ({@code certs/mesh-ca.sh init}) the control plane issues workload certificates with. */
    private static boolean ensureCa(Path root, Path ca, PrintWriter out, PrintWriter err)
            throws IOException, InterruptedException {
        if (Files.isRegularFile(ca.resolve("ca.pem")) && Files.isRegularFile(ca.resolve("ca.key"))) {
            return true;
        }
        Path script = root.resolve("certs/mesh-ca.sh");
        out.println("creating a development mesh CA (" + script + " init)");
        out.flush();
        Process p = new ProcessBuilder("bash", script.toString(), "init").directory(root.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (p.waitFor() != 0) {
            err.println("outrider demo: " + script + " init failed (exit " + p.exitValue() + ")");
            return false;
        }
        return true;
    }
}
