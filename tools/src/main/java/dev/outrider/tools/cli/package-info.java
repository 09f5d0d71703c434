/**
 * What the {@code outrider} tools share below the command tree: {@link dev.outrider.tools.cli.ExitCodes}. A leaf:
 * it imports no other tools package, so the root command ({@code dev.outrider.tools}) can mount every tool without a
 * package cycle.
 */
package dev.outrider.tools.cli;
