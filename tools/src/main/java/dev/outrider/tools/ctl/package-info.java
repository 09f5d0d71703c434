/**
 * {@code outrider ctl}, the operator's command line for the control plane: {@link dev.outrider.tools.ctl.CtlCommand}
 * and its subcommands ({@code apply}, {@code get}, {@code delete}, {@code status}, {@code join-token create}), with
 * the connection options of {@link dev.outrider.tools.ctl.CtlConnection}. Everything but those two classes is
 * package-private.
 */
package dev.outrider.tools.ctl;
