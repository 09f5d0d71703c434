package dev.outrider.controlplane.store;

/**
 * The JSON content of {@code <root>/revision.json}: the store revision as of the last delete or
 * {@link Store#advance()}. Needed because a delete removes the file that held the highest version (and an advance
 * writes no resource); without it the revision could go down on restart and a re-created resource could reuse a
 * version a client still holds, or a re-signed snapshot's version be issued again with other content.
 */
record RevisionFile(int format, long revision) {
    static final int FORMAT = 1;
}
