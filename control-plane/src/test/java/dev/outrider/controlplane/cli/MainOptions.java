package dev.outrider.controlplane.cli;

import dev.outrider.controlplane.ControlPlaneConfig;
import picocli.CommandLine;

import java.util.ArrayList;
import java.util.List;

/** The control plane's options as {@code outrider control-plane} parses them, for the option tests. */
final class MainOptions {
    private MainOptions() {
    }

    /** The config of the required options plus {@code extra}; throws as the command would refuse them. */
    static ControlPlaneConfig config(String... extra) {
        List<String> args = new ArrayList<>(List.of("--data-dir", "data", "--ca-cert", "ca.pem", "--ca-key", "ca-key.pem"));
        args.addAll(List.of(extra));
        ControlPlaneMain main = new ControlPlaneMain(action -> { });
        new CommandLine(main).parseArgs(args.toArray(String[]::new));
        return main.config();
    }
}
