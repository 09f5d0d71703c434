package dev.outrider.tools.ctl;

import dev.outrider.core.client.ControlPlaneException;
import dev.outrider.tools.cli.ExitCodes;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.concurrent.Callable;

/**
 * What every ctl subcommand does around its work: failures become one {@code error: ...} line on stderr and an
 * exit code (1 failure, 2 usage; picocli prints the usage for a {@link ParameterException}), never a stack trace.
 */
final class Ctl {
    private Ctl() {
    }

    static int run(CommandSpec spec, Callable<Integer> work) {
        PrintWriter err = spec.commandLine().getErr();
        try {
            return work.call();
        } catch (ParameterException e) {
            throw e;
        } catch (ControlPlaneException e) {
            err.println("error: " + e.getMessage());
            return ExitCodes.FAILURE;
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return ExitCodes.USAGE;
        } catch (UncheckedIOException e) {
            err.println("error: " + e.getMessage() + (e.getCause() == null ? "" : " (" + e.getCause() + ")"));
            return ExitCodes.FAILURE;
        } catch (Exception e) {
            err.println("error: " + e);
            return ExitCodes.FAILURE;
        } finally {
            err.flush();
            spec.commandLine().getOut().flush();
        }
    }
}
