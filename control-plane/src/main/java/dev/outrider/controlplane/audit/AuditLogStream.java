package dev.outrider.controlplane.audit;

import dev.outrider.core.files.AppendOnlyFile;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * The audit trail's own stream ({@code --audit-log}): JSON lines appended to a file and fsynced before the answer
 * ({@link AppendOnlyFile}), or written to standard output and flushed ({@code --audit-log -}: the control plane's
 * log goes to standard error, so standard output carries the trail alone; a pipe cannot be fsynced). This stream is
 * never trimmed: it is the complete record, for whatever collects it (rotate the file with {@code copytruncate}).
 * Blocking I/O: called on the worker only. Thread-safe.
 */
abstract sealed class AuditLogStream implements AutoCloseable {
    abstract void append(byte[] line) throws IOException;

    @Override
    public abstract void close() throws IOException;

    static AuditLogStream open(Path pathOrNull) throws IOException {
        return pathOrNull == null ? new Stdout() : new ToFile(AppendOnlyFile.open(pathOrNull));
    }

    private static final class ToFile extends AuditLogStream {
        private final AppendOnlyFile file;

        ToFile(AppendOnlyFile file) {
            this.file = file;
        }

        @Override
        void append(byte[] line) throws IOException {
            file.append(line);
        }

        @Override
        public void close() throws IOException {
            file.close();
        }

        @Override
        public String toString() {
            return file.path().toString();
        }
    }

    private static final class Stdout extends AuditLogStream {
        private final OutputStream out = new FileOutputStream(FileDescriptor.out);

        @Override
        synchronized void append(byte[] line) throws IOException {
            out.write(line);
            out.flush();
        }

        @Override
        public void close() {
            // standard output stays open for the rest of the process
        }

        @Override
        public String toString() {
            return "standard output";
        }
    }
}
