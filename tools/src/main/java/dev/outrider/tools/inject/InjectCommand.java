package dev.outrider.tools.inject;

import dev.outrider.tools.cli.ExitCodes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code outrider inject}: adds the Outrider sidecar to the workloads of a Kubernetes manifest, for
 * {@code outrider inject -f app.yaml | kubectl apply -f -}. Reads the file (or stdin), writes stdout (or
 * {@code -o FILE}); warnings go to stderr. The work is {@link ManifestInjector}'s; this adapts flags and streams.
 * Exit codes: 0 written, 2 bad flags or bad input (nothing written), 1 output not writable.
 */
@Command(name = "inject", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
                "Add the Outrider sidecar to the Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs "
                        + "and Pods of a Kubernetes manifest (multi-document YAML or JSON); other documents pass "
                        + "through unchanged. The output is YAML.",
                "By default the sidecar is a native sidecar (an init container with restartPolicy: Always, "
                        + "Kubernetes 1.29 or newer): it is ready before the application starts, and Jobs complete.",
                "Injecting twice changes nothing. A pod template annotated outrider.dev/inject: \"false\" is "
                        + "left as it is; so are pods with hostNetwork: true (with a warning).",
                "Comments in the input are not kept (the YAML is re-written); document separators are.",
                "Example: ./outrider inject -f app.yaml | kubectl apply -f -",
                "Exit codes: 0 written, 2 bad flags or bad input (nothing written), 1 output not writable.",
                "Reference: docs/inject.md.",
                ""})
public final class InjectCommand implements Callable<Integer> {
    @Option(names = {"-f", "--filename"}, paramLabel = "FILE",
            description = "The manifest to read; - or absent: stdin.")
    private String input;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write here instead of stdout.")
    private Path output;

    @Option(names = "--image", paramLabel = "IMAGE", defaultValue = InjectOptions.DEFAULT_IMAGE,
            description = "Sidecar image (default: ${DEFAULT-VALUE}).")
    private String image;

    @Option(names = "--control-plane", paramLabel = "HOST:PORT", defaultValue = InjectOptions.DEFAULT_CONTROL_PLANE,
            description = "The control plane (default: ${DEFAULT-VALUE}).")
    private String controlPlane;

    @Option(names = "--trust-domain", paramLabel = "DOMAIN", defaultValue = InjectOptions.DEFAULT_TRUST_DOMAIN,
            description = "The mesh's SPIFFE trust domain (default: ${DEFAULT-VALUE}).")
    private String trustDomain;

    @Option(names = "--service", paramLabel = "NAME",
            description = "Service name of every injected workload (default: its label app.kubernetes.io/name, "
                    + "else its label app, else its name).")
    private String service;

    @Option(names = "--app-port", paramLabel = "PORT",
            description = "The application's port (default: the first containerPort of the first container, "
                    + "else 8080).")
    private Integer appPort;

    @Option(names = "--legacy-sidecar",
            description = "For clusters before Kubernetes 1.29: the sidecar as the first regular container. Jobs then "
                    + "do not complete on their own (the sidecar keeps running), and the application may start "
                    + "before the sidecar is ready.")
    private boolean legacySidecar;

    @Option(names = "--cpu-request", paramLabel = "QUANTITY", defaultValue = "100m",
            description = "Sidecar CPU request (default: ${DEFAULT-VALUE}).")
    private String cpuRequest;

    @Option(names = "--memory-request", paramLabel = "QUANTITY", defaultValue = "192Mi",
            description = "Sidecar memory request (default: ${DEFAULT-VALUE}).")
    private String memoryRequest;

    @Option(names = "--cpu-limit", paramLabel = "QUANTITY", defaultValue = "1",
            description = "Sidecar CPU limit (default: ${DEFAULT-VALUE}).")
    private String cpuLimit;

    @Option(names = "--memory-limit", paramLabel = "QUANTITY", defaultValue = "384Mi",
            description = "Sidecar memory limit (default: ${DEFAULT-VALUE}).")
    private String memoryLimit;

    @Spec
    private CommandSpec spec;

    /** Where {@code -f -} and an absent {@code -f} read from; stdin unless a test sets it. */
    private InputStream stdin = System.in;

    InjectCommand stdin(InputStream in) {
        this.stdin = in;
        return this;
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        InjectOptions options;
        try {
            options = new InjectOptions(image, controlPlane, trustDomain, service, appPort, legacySidecar,
                    SidecarResources.of(cpuRequest, memoryRequest, cpuLimit, memoryLimit));
        } catch (IllegalArgumentException e) {
            err.println("outrider inject: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        boolean fromStdin = input == null || input.equals("-");
        String source = fromStdin ? "<stdin>" : input;
        if (fromStdin && stdin == System.in && System.console() != null && System.console().isTerminal()) {
            err.println("outrider inject: reading the manifest from stdin (end it with Ctrl-D; -f FILE reads a file)");
        }
        ManifestInjector.Result result;
        try {
            result = ManifestInjector.inject(read(fromStdin), source, options);
        } catch (InjectException e) {
            e.problems().forEach(p -> err.println("outrider inject: " + p));
            return ExitCodes.USAGE;
        } catch (InputException e) {
            err.println("outrider inject: " + source + ": " + e.getMessage());
            return ExitCodes.USAGE;
        }
        result.warnings().forEach(w -> err.println("outrider inject: warning: " + w));
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(result.yaml());
            out.flush();
            return ExitCodes.OK;
        }
        try {
            Files.writeString(output, result.yaml());
        } catch (IOException e) {
            err.println("outrider inject: " + output + ": cannot write: " + e.getMessage());
            return ExitCodes.FAILURE;
        }
        return ExitCodes.OK;
    }

    /** The input as UTF-8 text; anything else is bad input. */
    private String read(boolean fromStdin) {
        byte[] bytes;
        try {
            bytes = fromStdin ? stdin.readAllBytes() : Files.readAllBytes(Path.of(input));
        } catch (NoSuchFileException e) {
            throw new InputException("no such file");
        } catch (IOException e) {
            throw new InputException("cannot read: " + e.getMessage());
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InputException("not UTF-8 text");
        }
    }

    /** The input cannot be read as text. */
    private static final class InputException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        InputException(String message) {
            super(message);
        }
    }
}
