package dev.outrider.core.files;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void keyFilesAreOwnerOnlyEvenWhenTheyReplaceAWorldReadableFile() throws Exception {
        Path key = dir.resolve("key.pem");
        Files.writeString(key, "old");
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));

        AtomicFiles.write(key, "new".getBytes(), AtomicFiles.OWNER_ONLY);

        assertThat(Files.readString(key)).isEqualTo("new");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
    }

    @Test
    void certificatesAreWorldReadableAndNoTemporaryFileRemains() throws Exception {
        Path cert = dir.resolve("cert.pem");

        AtomicFiles.write(cert, "pem".getBytes(), AtomicFiles.WORLD_READABLE);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cert))).isEqualTo("rw-r--r--");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("cert.pem");
        }
    }

    @Test
    void aReaderSeesTheOldOrTheNewContentNeverAPart() throws Exception {
        Path file = dir.resolve("cert.pem");
        byte[] a = new byte[256 * 1024];
        byte[] b = new byte[384 * 1024];
        Arrays.fill(a, (byte) 'a');
        Arrays.fill(b, (byte) 'b');
        AtomicFiles.write(file, a, AtomicFiles.WORLD_READABLE);
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicReference<String> torn = new AtomicReference<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            int reads = 0;
            while (writing.get() || reads < 10) {
                try {
                    byte[] seen = Files.readAllBytes(file);
                    reads++;
                    if (!Arrays.equals(seen, a) && !Arrays.equals(seen, b)) {
                        torn.compareAndSet(null, "read " + seen.length + " bytes starting with " + (char) seen[0]);
                    }
                } catch (NoSuchFileException e) {
                    torn.compareAndSet(null, "file missing during a replace");
                } catch (Exception e) {
                    torn.compareAndSet(null, e.toString());
                }
            }
        });
        for (int i = 0; i < 200; i++) {
            AtomicFiles.write(file, i % 2 == 0 ? b : a, AtomicFiles.WORLD_READABLE);
        }
        writing.set(false);
        reader.join();

        assertThat(torn.get()).isNull();
    }
}
