package dev.outrider.core.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadLocalRandom;

/** Ports for tests that must name a listening port before the listener binds it. */
public final class FreePorts {
    private FreePorts() {
    }

    /**
     * A port with nothing listening on it now, below the kernel's ephemeral range: a process that has exited
     * leaves its port closed, and a connection to a closed loopback port inside the ephemeral range can be given
     * that same port as its source and connect to itself (TCP simultaneous open), which a peer still trying the
     * old endpoint would take for a live one; and a port probed free inside the ephemeral range can be taken by
     * any outgoing connection's source port before the listener binds it. Falls back to an ephemeral port when
     * none below is free.
     */
    public static int belowEphemeralRange() throws IOException {
        int ephemeralStart = 32768;
        try {
            ephemeralStart = Integer.parseInt(
                    Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).getFirst().trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            // not Linux, or unreadable: keep the usual start
        }
        int low = Math.max(1024, Math.min(20_000, ephemeralStart / 2)); // never a privileged port
        for (int attempt = 0; attempt < 200 && ephemeralStart > low; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(low, ephemeralStart);
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException inUse) {
                // try another
            }
        }
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
