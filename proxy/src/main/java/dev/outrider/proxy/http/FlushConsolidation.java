package dev.outrider.proxy.http;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * Pipeline position: on an HTTP/2 connection, downstream ({@link DownstreamHttp}) or upstream, after TLS and
 * before the HTTP/2 codec. The flushes of the streams that answer in one pass of the event loop (responses
 * read from several upstream connections, a burst of requests) go out as one write, and with TLS as fewer
 * records, instead of one write per stream: flushes during a read of the connection wait for the read's end,
 * others for the end of the current event-loop task (Netty's {@link FlushConsolidationHandler}, at most 256
 * flushes merged). HTTP/1.1 connections carry one exchange at a time and go without it.
 */
public final class FlushConsolidation {
    private FlushConsolidation() {
    }

    public static void add(ChannelPipeline p) {
        p.addLast("flush-consolidation", new FlushConsolidationHandler(
                FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES, true));
    }
}
