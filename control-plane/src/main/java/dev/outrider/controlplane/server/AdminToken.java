package dev.outrider.controlplane.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import static java.util.Objects.requireNonNull;

/**
 * The development-mode admin bearer token ({@code --admin-token-file}). Only its SHA-256 is held; a
 * presented token is hashed and the two digests are compared with {@link MessageDigest#isEqual} (constant
 * time, and equal lengths whatever was presented, so not even the token's length leaks). Never shown in
 * {@code toString} or messages. Immutable.
 */
public final class AdminToken {
    /** Shorter tokens are guessable; a development token still travels over the network. */
    public static final int MIN_LENGTH = 16;

    private final byte[] digest;

    private AdminToken(byte[] digest) {
        this.digest = digest;
    }

    /** The token is the file's content without surrounding white space (a trailing newline is usual). */
    public static AdminToken read(Path file) throws IOException {
        requireNonNull(file, "file");
        String token = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (token.length() < MIN_LENGTH) {
            throw new IOException("admin token file " + file + " must hold a token of at least " + MIN_LENGTH
                    + " characters (it holds " + token.length() + ")");
        }
        return of(token);
    }

    public static AdminToken of(String token) {
        requireNonNull(token, "token");
        return new AdminToken(sha256(token));
    }

    public boolean matches(String presented) {
        return presented != null && MessageDigest.isEqual(digest, sha256(presented));
    }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "AdminToken[redacted]";
    }
}
