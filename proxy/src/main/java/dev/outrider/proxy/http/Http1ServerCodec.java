package dev.outrider.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;

/**
 * The downstream HTTP/1.1 codec: Netty's request decoder and response encoder, as in Netty's
 * {@code HttpServerCodec} (HEAD and CONNECT responses framed by the request's method), plus one rule
 * Netty's decoder does not enforce: a header block with obs-fold (a line starting with SP or HTAB, RFC 9112
 * §5.2) is rejected instead of being folded into the previous field, since a peer that splits the header
 * differently would see another request (request smuggling).
 *
 * <p>To see each header block whole, the decoder waits until the block's end ({@code CRLF CRLF}) is in
 * the buffer before letting Netty's decoder consume it; a block that outgrows the configured limits is
 * handed over as is, so Netty reports it as too large. {@link #awaitingHeaders()} and
 * {@link #headerBlockStarted()} tell {@link Http1HeaderTimeoutHandler} where the decoder is.
 */
public final class Http1ServerCodec extends CombinedChannelDuplexHandler<HttpRequestDecoder, HttpResponseEncoder> {
    /** Request methods in arrival order, taken by the encoder as responses go out. Event loop only. */
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(4);
    private final StrictRequestDecoder decoder;

    public Http1ServerCodec(HttpDecoderConfig config) {
        decoder = new StrictRequestDecoder(config, methods);
        init(decoder, new ResponseEncoder(methods));
    }

    /**
     * Whether the decoder is between requests: the previous request (if any) was decoded to its end, the next
     * bytes are a request line and a header block. Event loop only.
     */
    boolean awaitingHeaders() {
        return decoder.atMessageStart && !decoder.failed;
    }

    /** Whether bytes of the next header block are buffered, its end not yet: a header block is arriving. */
    boolean headerBlockStarted() {
        return awaitingHeaders() && decoder.buffered() > 0;
    }

    /** Thrown (as a decoder result) for a header block with obs-fold. */
    public static final class ObsFoldException extends DecoderException {
        ObsFoldException() {
            super("obs-fold in header block");
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this; // a property of the input, not of the code path
        }
    }

    private static final class StrictRequestDecoder extends HttpRequestDecoder {
        private static final int NOT_YET = -1;
        private static final int BARE_LF = -2;
        private static final int OBS_FOLD = -3;

        /** Standard methods other than GET and POST (which Netty's decoder shares itself), the commoner first. */
        private static final HttpMethod[] METHODS = {HttpMethod.PUT, HttpMethod.HEAD, HttpMethod.PATCH,
                HttpMethod.TRACE, HttpMethod.QUERY, HttpMethod.DELETE, HttpMethod.OPTIONS, HttpMethod.CONNECT};

        private final ArrayDeque<HttpMethod> methods;
        /** The headers factory when it is {@link CompactHttpHeaders}': told each block's field count. */
        private final CompactHttpHeadersFactory sizedHeaders;
        private final int maxBlock;
        /** Line ends seen by the last {@link #headerBlockEnd} scan. */
        private int lines;
        /** True between messages: the next bytes are a request line and a header block. */
        private boolean atMessageStart = true;
        private boolean failed;

        StrictRequestDecoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> methods) {
            super(config);
            this.methods = methods;
            this.sizedHeaders = config.getHeadersFactory() instanceof CompactHttpHeadersFactory f ? f : null;
            this.maxBlock = config.getMaxInitialLineLength() + config.getMaxHeaderSize() + 4;
        }

        /** A common name is shared ({@link DecodedHeaderNames}); any other is decoded as Netty does. */
        @Override
        protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
            AsciiString shared = DecodedHeaderNames.find(sb, start, length);
            return shared != null ? shared : super.splitHeaderName(sb, start, length);
        }

        /**
         * A standard method's shared name ({@link HttpMethod#name()}, so {@link HttpMethod#valueOf} returns the
         * constant without a String per request); any other method is decoded as Netty does.
         */
        @Override
        protected String splitFirstWordInitialLine(byte[] sb, int start, int length) {
            for (HttpMethod m : METHODS) {
                AsciiString name = m.asciiName();
                if (name.length() == length && Arrays.equals(sb, start, start + length, name.array(),
                        name.arrayOffset(), name.arrayOffset() + length)) {
                    return m.name();
                }
            }
            return super.splitFirstWordInitialLine(sb, start, length);
        }

        /** Bytes received and not yet decoded. */
        int buffered() {
            return internalBuffer().readableBytes();
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            if (failed) {
                buffer.skipBytes(buffer.readableBytes());
                return;
            }
            if (atMessageStart) {
                int end = headerBlockEnd(buffer);
                if (end == NOT_YET && buffer.readableBytes() < maxBlock) {
                    return; // wait for the whole block (the cumulation keeps the bytes)
                }
                if (end > 0 && sizedHeaders != null) {
                    sizedHeaders.expectFields(Math.max(0, lines - 2)); // less the request line and blank line
                }
                if (end == OBS_FOLD) {
                    failed = true;
                    buffer.skipBytes(buffer.readableBytes());
                    HttpRequest invalid = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/bad-request");
                    invalid.setDecoderResult(DecoderResult.failure(new ObsFoldException()));
                    out.add(invalid);
                    return;
                }
            }
            int before = out.size();
            super.decode(ctx, buffer, out);
            for (int i = before; i < out.size(); i++) {
                Object o = out.get(i);
                if (o instanceof HttpRequest request) {
                    methods.add(request.method());
                    atMessageStart = false;
                }
                if (o instanceof LastHttpContent) {
                    atMessageStart = true;
                }
                if (o instanceof HttpObject h && h.decoderResult().isFailure()) {
                    failed = true;
                }
            }
        }

        /**
         * Index just past the blank line ending the header block; {@link #NOT_YET} when it is not in the
         * buffer yet; {@link #BARE_LF} when a line ends in LF alone, which the strict decoder rejects itself;
         * {@link #OBS_FOLD} when the whole block is there and a line after the request line begins with SP or
         * HTAB. One pass over the block, line by line ({@link ByteBuf#indexOf} finds each LF a word at a time).
         */
        private int headerBlockEnd(ByteBuf buf) {
            int from = buf.readerIndex();
            int to = buf.writerIndex();
            lines = 0;
            boolean folded = false;
            int lineStart = from;
            while (true) {
                int lf = buf.indexOf(lineStart, to, (byte) '\n');
                if (lf < 0) {
                    return NOT_YET;
                }
                lines++;
                if (lf == from || buf.getByte(lf - 1) != '\r') {
                    return BARE_LF;
                }
                if (lf - 1 == lineStart && lineStart > from) {
                    return folded ? OBS_FOLD : lf + 1; // an empty line after at least one line: the block's end
                }
                lineStart = lf + 1;
                if (lineStart < to) {
                    byte next = buf.getByte(lineStart);
                    folded |= next == ' ' || next == '\t';
                }
            }
        }
    }

    private static final class ResponseEncoder extends HttpResponseEncoder {
        private final ArrayDeque<HttpMethod> methods;
        private HttpMethod method;

        ResponseEncoder(ArrayDeque<HttpMethod> methods) {
            this.methods = methods;
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL) {
                return super.isContentAlwaysEmpty(msg); // 100 Continue answers no request of its own
            }
            method = methods.poll();
            return HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }

        @Override
        protected void sanitizeHeadersBeforeEncode(HttpResponse msg, boolean isAlwaysEmpty) {
            if (!isAlwaysEmpty && HttpMethod.CONNECT.equals(method)
                    && msg.status().codeClass() == HttpStatusClass.SUCCESS) {
                msg.headers().remove(HttpHeaderNames.TRANSFER_ENCODING);
                return;
            }
            super.sanitizeHeadersBeforeEncode(msg, isAlwaysEmpty);
        }
    }
}
