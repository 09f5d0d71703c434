package dev.outrider.proxy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The sidecar's command line, {@code [proxy] -c|--config FILE [-h|--help] [-V|--version]}, read the way
 * {@code outrider proxy} has always read it (the same forms, precedence and messages as the picocli command it
 * replaces, so scripts and images see no difference): {@code --config=FILE}, {@code -cFILE}, {@code -c=FILE},
 * clustered short options ({@code -hV}), {@code --} ending the options; help before version before a missing
 * {@code --config}, errors met while reading before help. A pure function: {@link #parse} returns what to do,
 * and {@link SidecarMain} does it.
 */
final class SidecarArguments {
    /** The usage text, as {@code outrider proxy --help} prints it. */
    static final String USAGE = """
            Usage: outrider proxy [-hV] -c=FILE
            Run the sidecar: inbound and outbound listeners, health and admin servers.
            SIGTERM or SIGINT drains in-flight requests, then exits 0.
              -c, --config=FILE   The bootstrap YAML file (see the configuration reference
                                    in README.md).
              -h, --help          Show this help message and exit.
              -V, --version       Print version information and exit.
            """;

    private static final List<String> OPTION_NAMES = List.of("-c", "--config", "-h", "--help", "-V", "--version");

    /** What the command line asks for. */
    sealed interface Parsed permits Run, Help, Version, Refused {
    }

    /** Start a sidecar from this bootstrap file. */
    record Run(Path config) implements Parsed {
    }

    /** Print {@link #USAGE} on stdout, exit 0. */
    record Help() implements Parsed {
    }

    /** Print the version line on stdout, exit 0. */
    record Version() implements Parsed {
    }

    /**
     * Bad usage (exit 2): the message on stderr, then the possible solutions when there are some (an unknown
     * option that looks like a known one), else the usage.
     */
    record Refused(String message, List<String> solutions) implements Parsed {
        Refused(String message) {
            this(message, List.of());
        }
    }

    /** A bad argument found while reading; ends the reading at once. */
    private static final class Bad extends Exception {
        private final Refused refused;

        Bad(String message) {
            super(message, null, false, false);
            this.refused = new Refused(message);
        }
    }

    private String config;
    private boolean help;
    private boolean version;
    private final List<String> unmatched = new ArrayList<>();
    private int firstUnmatchedIndex = -1;

    private SidecarArguments() {
    }

    /** @param args the command line; a leading {@code proxy} (the launcher's and image's word) is skipped */
    static Parsed parse(String... args) {
        SidecarArguments a = new SidecarArguments();
        try {
            a.read(args);
        } catch (Bad e) {
            return e.refused;
        }
        return a.decide();
    }

    private void read(String[] args) throws Bad {
        boolean optionsEnded = false;
        for (int i = args.length > 0 && args[0].equals("proxy") ? 1 : 0; i < args.length; i++) {
            String arg = args[i];
            if (optionsEnded) {
                unmatched(i, arg);
            } else if (arg.equals("--")) {
                optionsEnded = true;
            } else if (arg.equals("-c") || arg.equals("--config")) {
                setConfig(value(args, ++i));
            } else if (arg.startsWith("--config=")) {
                setConfig(arg.substring("--config=".length()));
            } else if (arg.equals("--help") || arg.equals("--version")) {
                flag(arg.substring(2, 3), null);
            } else if (arg.startsWith("--help=") || arg.startsWith("--version=")) {
                flag(arg.substring(2, 3), arg.substring(arg.indexOf('=') + 1));
            } else if (arg.length() > 1 && arg.charAt(0) == '-' && "chV".indexOf(arg.charAt(1)) >= 0) {
                i = cluster(args, i);
            } else {
                unmatched(i, arg);
            }
        }
    }

    /** Short options in one argument: {@code -hV}, {@code -hc FILE}, {@code -cFILE}, {@code -c=FILE}. */
    private int cluster(String[] args, int i) throws Bad {
        String arg = args[i];
        for (int j = 1; j < arg.length(); j++) {
            char c = arg.charAt(j);
            String rest = arg.substring(j + 1);
            if (c == 'c') {
                if (rest.isEmpty()) {
                    setConfig(value(args, ++i));
                } else {
                    setConfig(rest.startsWith("=") ? rest.substring(1) : rest);
                }
                return i;
            }
            if (c != 'h' && c != 'V') {
                unmatched(i, "-" + arg.substring(j));
                return i;
            }
            if (rest.startsWith("=")) {
                flag(c == 'h' ? "h" : "v", rest.substring(1));
                return i;
            }
            flag(c == 'h' ? "h" : "v", null);
        }
        return i;
    }

    /** The value after {@code -c}: present, and not itself an option. */
    private static String value(String[] args, int i) throws Bad {
        if (i >= args.length) {
            throw new Bad("Missing required parameter for option '--config' (FILE)");
        }
        if (isOption(args[i])) {
            throw new Bad("Expected parameter for option '--config' but found '" + args[i] + "'");
        }
        return args[i];
    }

    private static boolean isOption(String arg) {
        if (arg.equals("--") || OPTION_NAMES.contains(arg)) {
            return true;
        }
        int eq = arg.indexOf('=');
        if (eq > 0 && OPTION_NAMES.contains(arg.substring(0, eq))) {
            return true;
        }
        return arg.length() > 2 && arg.charAt(0) == '-' && "chV".indexOf(arg.charAt(1)) >= 0;
    }

    private void setConfig(String value) throws Bad {
        if (config != null) {
            throw new Bad("option '--config' (FILE) should be specified only once");
        }
        config = value;
    }

    /** {@code -h}/{@code -V}, with an optional attached boolean ({@code --help=true}) that is only checked. */
    private void flag(String which, String attached) throws Bad {
        String name = which.equals("h") ? "--help" : "--version";
        if (attached != null && !attached.equalsIgnoreCase("true") && !attached.equalsIgnoreCase("false")) {
            throw new Bad("Invalid value for option '" + name + "': '" + attached + "' is not a boolean");
        }
        boolean seen = which.equals("h") ? help : version;
        if (seen) {
            throw new Bad("option '" + name + "' should be specified only once");
        }
        if (which.equals("h")) {
            help = true;
        } else {
            version = true;
        }
    }

    private void unmatched(int index, String arg) {
        if (unmatched.isEmpty()) {
            firstUnmatchedIndex = index;
        }
        unmatched.add(arg);
    }

    private Parsed decide() {
        if (help) {
            return new Help();
        }
        if (version) {
            return new Version();
        }
        if (config == null) {
            return new Refused("Missing required option: '--config=FILE'");
        }
        if (!unmatched.isEmpty()) {
            String list = "'" + String.join("', '", unmatched) + "'";
            String plural = unmatched.size() == 1 ? "" : "s";
            String first = unmatched.getFirst();
            if (!resemblesOption(first)) {
                return new Refused("Unmatched argument" + plural + (unmatched.size() == 1 ? " at" : " from")
                        + " index " + firstUnmatchedIndex + ": " + list);
            }
            return new Refused("Unknown option" + plural + ": " + list, solutions(first));
        }
        return new Run(Path.of(config));
    }

    /** An argument that starts with {@code -} and is not a number. */
    private static boolean resemblesOption(String arg) {
        if (arg.length() < 2 || arg.charAt(0) != '-') {
            return false;
        }
        try {
            Long.decode(arg);
            return false;
        } catch (NumberFormatException notALong) {
            try {
                Double.parseDouble(arg);
                return false;
            } catch (NumberFormatException notANumber) {
                return true;
            }
        }
    }

    /** The options whose name (without dashes) starts with the first two letters of the unknown one's. */
    private static List<String> solutions(String unknown) {
        String stripped = stripDashes(unknown);
        String prefix = stripped.substring(0, Math.min(2, stripped.length()));
        return OPTION_NAMES.stream().filter(n -> stripDashes(n).startsWith(prefix)).toList();
    }

    private static String stripDashes(String arg) {
        for (int i = 0; i < arg.length(); i++) {
            if (Character.isJavaIdentifierPart(arg.charAt(i))) {
                return arg.substring(i);
            }
        }
        return arg;
    }
}
