package dev.outrider.proxy.forward;

/** What a {@link RouteResolver} decided for a request: a {@link Route} or a {@link NoRoute}. */
public sealed interface RouteResult permits Route, NoRoute {
}
