package dev.outrider.proxy.http;

import dev.outrider.proxy.config.HttpConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.DecoderResultProvider;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link CompactHttpHeaders} against Netty's own map ({@code DefaultHttpHeaders} from
 * {@link DefaultHttpHeadersFactory#headersFactory()}, what the HTTP/1.1 decoder used before): the same operations
 * on both, the same results, the same exceptions (class and message), the same contents after each step; then
 * the whole decoder, Netty's with its default map against {@link Http1ServerCodec} with the compact one, on
 * good and bad requests.
 */
class CompactHttpHeadersTest {
    private static final HttpConfig CONFIG = new HttpConfig(1024, 4096, 50, 100, Duration.ofMinutes(1),
            Duration.ofSeconds(10));
    private static final CharSequence[] NAMES = {"host", "Host", AsciiString.cached("HOST"), "x-a", "X-A",
            AsciiString.cached("x-b"), "connection", "content-length", "", "bad name", "bad:name", "ü", null};
    private static final Object[] VALUES = {"v", "V", "v1, v2", " spaced ", "", "12", "-3", "70000", "x\r\ny",
            "nul\u0000", "tab\tok", "é", AsciiString.cached("ascii"), 42, new Date(0), "Thu, 01 Jan 1970 00:00:00 GMT",
            null};

    /** One operation: what it returns, turned into comparable text. */
    private record Op(String what, Function<HttpHeaders, Object> run) {
    }

    @Test
    void randomOperationSequencesGiveTheSameResultsAndContents() {
        Random random = new Random(18);
        for (int round = 0; round < 400; round++) {
            HttpHeaders netty = DefaultHttpHeadersFactory.headersFactory().newHeaders();
            HttpHeaders compact = new CompactHttpHeaders(round % 3); // 0..2: growth exercised
            List<String> steps = new ArrayList<>();
            for (int step = 0; step < 30; step++) {
                Op op = randomOp(random);
                steps.add(op.what);
                Object expected = outcome(op.run, netty);
                Object actual = outcome(op.run, compact);
                assertThat(actual).as("round %d, steps %s", round, steps).isEqualTo(expected);
                assertThat(contents(compact)).as("round %d, steps %s", round, steps).isEqualTo(contents(netty));
                for (CharSequence name : NAMES) {
                    if (name != null) {
                        assertThat(((CompactHttpHeaders) compact).count(name)).isEqualTo(netty.getAll(name).size());
                    }
                }
            }
        }
    }

    @Test
    void duplicatesKeepArrivalOrderInGetAllAndTheValueIteratorWalksLastFirst() {
        for (HttpHeaders h : both()) {
            h.add("X-A", "1").add("host", "h").add("x-a", "2").add(AsciiString.cached("X-a"), "3");
            assertThat(h.get("x-A")).isEqualTo("1");
            assertThat(h.getAll("x-a")).containsExactly("1", "2", "3");
            assertThat(drain(h.valueCharSequenceIterator("X-A"))).containsExactly("3", "2", "1");
            assertThat(h.names()).containsExactly("X-A", "host", "x-a", "X-a");
        }
    }

    @Test
    void valueIteratorRemovesWhatItReturnedAndToleratesOtherFieldsRemoved() {
        List<List<String>> results = new ArrayList<>();
        for (HttpHeaders h : both()) {
            h.add("connection", "a").add("a", "x").add("connection", "b").add("b", "y").add("c", "z");
            Iterator<String> it = h.valueStringIterator("Connection");
            List<String> seen = new ArrayList<>();
            while (it.hasNext()) {
                String v = it.next();
                seen.add(v);
                h.remove(v); // as HeaderHygiene removes the fields a Connection value names
                if (v.equals("b")) {
                    it.remove();
                }
            }
            seen.add("|");
            seen.addAll(contents(h));
            results.add(seen);
            Iterator<String> again = h.valueStringIterator("connection");
            assertThat(outcome(x -> {
                again.remove();
                return null;
            }, h)).isEqualTo("java.lang.IllegalStateException: null");
        }
        assertThat(results.get(1)).isEqualTo(results.get(0));
    }

    @Test
    void iteratorEntriesWriteThroughAndTheIteratorIsReadOnly() {
        List<Object> results = new ArrayList<>();
        for (HttpHeaders h : both()) {
            h.add("a", "1").add("b", "2");
            Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
            Map.Entry<CharSequence, CharSequence> first = it.next();
            results.add(first.setValue("one"));
            results.add(outcome(x -> first.setValue(null), h));
            results.add(outcome(x -> {
                it.remove();
                return null;
            }, h));
            it.next();
            results.add(outcome(x -> it.next(), h));
            results.add(contents(h));
            results.add(first.toString());
            results.add(h.entries().toString());
            results.add(h.hashCode());
        }
        assertThat(results.subList(8, 16)).isEqualTo(results.subList(0, 8));
    }

    @Test
    void copiesAndBulkOperationsAcrossBothKinds() {
        List<Object> results = new ArrayList<>();
        for (HttpHeaders h : both()) {
            h.add("a", "1").add("B", "2").add("a", "3");
            HttpHeaders other = DefaultHttpHeadersFactory.headersFactory().newHeaders().add("b", "x").add("c", "y");
            results.add(contents(h.copy()));
            results.add(contents(h.copy().add(other)));
            results.add(contents(h.copy().set(other)));
            results.add(contents(h.copy().setAll(other)));
            results.add(outcome(x -> x.add(x), h));
            results.add(contents(h.set(h)));
            HttpHeaders same = h.copy();
            results.add(same.equals(h) && same.hashCode() == h.hashCode());
            results.add(outcome(x -> x.set((HttpHeaders) null), h));
            results.add(contents(h));
        }
        assertThat(results.subList(9, 18)).isEqualTo(results.subList(0, 9));
    }

    @Test
    void theDecoderGivesTheSameRequestsAndErrorsWithTheCompactMap() {
        String[] requests = {
                "GET /a HTTP/1.1\r\nHost: x\r\nUser-Agent: t/1\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\n",
                "PUT /p HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                "DELETE /d HTTP/1.0\r\nHost: x\r\n\r\n",
                "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
                "PATCH /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok",
                "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n",
                "get /lower HTTP/1.1\r\nHost: x\r\n\r\n",
                "GET /a HTTP/1.1\r\nBad Name: x\r\n\r\n",
                "GET /a HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n",
                "GET /a HTTP/1.1\r\nHost: x\r\nX-Bad: a\u007fb\r\n\r\n",
                "GET /a HTTP/1.1\r\nHost: x\r\n: empty\r\n\r\n",
                "GET /a HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
                "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: 1\r\n\r\n",
                "POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                "GET /a HTTP/1.1\r\nHost: x\r\nEmpty:\r\n\r\n",
        };
        for (String request : requests) {
            HttpDecoderConfig nettyMap = DownstreamHttp.decoderConfig(CONFIG)
                    .setHeadersFactory(DefaultHttpHeadersFactory.headersFactory());
            List<String> viaNetty = decode(new EmbeddedChannel(new HttpRequestDecoder(nettyMap)), request);
            List<String> viaCodec = decode(
                    new EmbeddedChannel(new Http1ServerCodec(DownstreamHttp.decoderConfig(CONFIG))), request);
            assertThat(viaCodec).as(request).isEqualTo(viaNetty);
        }
    }

    @Test
    void theDecoderSharesTheStandardMethodNamesAndSizesTheMapToTheBlock() {
        for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE,
                HttpMethod.HEAD, HttpMethod.OPTIONS, HttpMethod.PATCH, HttpMethod.TRACE, HttpMethod.QUERY)) {
            EmbeddedChannel ch = new EmbeddedChannel(new Http1ServerCodec(DownstreamHttp.decoderConfig(CONFIG)));
            ch.writeInbound(Unpooled.copiedBuffer(method + " /a HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n",
                    StandardCharsets.US_ASCII));
            HttpRequest request = ch.readInbound();
            assertThat(request.method()).isSameAs(method);
            assertThat(request.method().name()).isSameAs(method.name());
            assertThat(request.headers()).isInstanceOf(CompactHttpHeaders.class);
            assertThat(request.headers().names()).containsExactly("Host", "A", "B");
            ReferenceCountUtil.release(request);
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void theResponseEncoderWritesTheSameBytesForEitherMap() {
        List<String> wire = new ArrayList<>();
        for (HttpHeaders h : both()) {
            h.add(AsciiString.cached("content-type"), AsciiString.cached("text/plain; charset=utf-8"))
                    .add("Content-Length", "2").add("X-Text", "caf\u00e9 \u0100").add("x-empty", "");
            FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
                    Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII), h, EmptyHttpHeaders.INSTANCE);
            EmbeddedChannel ch = h instanceof CompactHttpHeaders
                    ? new EmbeddedChannel(new Http1ServerCodec(DownstreamHttp.decoderConfig(CONFIG)))
                    : new EmbeddedChannel(new HttpResponseEncoder());
            ch.writeOutbound(response);
            StringBuilder out = new StringBuilder();
            ByteBuf b;
            while ((b = ch.readOutbound()) != null) {
                out.append(b.toString(StandardCharsets.ISO_8859_1));
                b.release();
            }
            ch.finishAndReleaseAll();
            wire.add(out.toString());
        }
        assertThat(wire.get(1)).isEqualTo(wire.get(0)).contains("x-empty: \r\n");
    }

    // --- helpers -------------------------------------------------------------------------------------------

    private static List<HttpHeaders> both() {
        return List.of(DefaultHttpHeadersFactory.headersFactory().newHeaders(), new CompactHttpHeaders(1));
    }

    private static Op randomOp(Random r) {
        CharSequence name = NAMES[r.nextInt(NAMES.length)];
        Object value = VALUES[r.nextInt(VALUES.length)];
        CharSequence text = value instanceof CharSequence cs ? cs : null;
        boolean ic = r.nextBoolean();
        int small = r.nextInt(4) - 1; // decided here: the operation runs once per map
        List<Object> list = Arrays.asList(value, VALUES[r.nextInt(VALUES.length)], VALUES[r.nextInt(VALUES.length)]);
        String n = name == null ? "null" : "'" + name + "'";
        return switch (r.nextInt(26)) {
            case 0, 1, 2 -> new Op("add " + n + " " + value, h -> h.add(name, value));
            case 3 -> new Op("add(String) " + n, h -> h.add(name == null ? null : name.toString(), value));
            case 4, 5 -> new Op("set " + n + " " + value, h -> h.set(name, value));
            case 6 -> new Op("add list " + n + " " + list, h -> h.add(name, list));
            case 7 -> new Op("set list " + n + " " + list, h -> h.set(name, list));
            case 8 -> new Op("remove " + n, h -> h.remove(name));
            case 9 -> new Op("get " + n, h -> h.get(name));
            case 10 -> new Op("getAll " + n, h -> h.getAll(name));
            case 11 -> new Op("contains " + n, h -> h.contains(name));
            case 12 -> new Op("contains " + n + " " + text + " " + ic, h -> h.contains(name, text, ic));
            case 13 -> new Op("containsValue " + n + " " + text + " " + ic, h -> h.containsValue(name, text, ic));
            case 14 -> new Op("addInt " + n, h -> h.addInt(name, small));
            case 15 -> new Op("setShort " + n, h -> h.setShort(name, (short) 7));
            case 16 -> new Op("getInt " + n, h -> List.of(String.valueOf(h.getInt(name)), h.getInt(name, -9)));
            case 17 -> new Op("getShort " + n,
                    h -> List.of(String.valueOf(h.getShort(name)), h.getShort(name, (short) -9)));
            case 18 -> new Op("getTimeMillis " + n, h -> String.valueOf(h.getTimeMillis(name)));
            case 19 -> new Op("values " + n, h -> drain(h.valueCharSequenceIterator(name)));
            case 20 -> new Op("remove values " + n, h -> {
                Iterator<String> it = h.valueStringIterator(name);
                List<String> seen = new ArrayList<>();
                while (it.hasNext()) {
                    seen.add(it.next());
                    if (seen.size() % 2 == 1) {
                        it.remove();
                    }
                }
                return seen;
            });
            case 21 -> new Op("names", h -> List.of(new ArrayList<>(h.names()), h.names().size(),
                    name == null || h.names().contains(name.toString())));
            case 22 -> new Op("entries", h -> h.entries().toString());
            case 23 -> new Op("size", h -> List.of(h.size(), h.isEmpty()));
            case 24 -> new Op("hashCode", HttpHeaders::hashCode);
            default -> small == 2 ? new Op("clear", HttpHeaders::clear) : new Op("isEmpty", HttpHeaders::isEmpty);
        };
    }

    /** What an operation returned (a map returned is "this"), or the exception it threw with its cause. */
    private static Object outcome(Function<HttpHeaders, Object> op, HttpHeaders h) {
        try {
            Object result = op.apply(h);
            if (result instanceof HttpHeaders) {
                return result == h ? "this" : "another map";
            }
            if (result instanceof List<?> l) {
                return new ArrayList<>(l).toString();
            }
            return String.valueOf(result);
        } catch (Exception e) {
            String cause = e.getCause() == null ? "" : " / " + e.getCause();
            return e.getClass().getName() + ": " + e.getMessage() + cause;
        }
    }

    /** Name and value of each field, in order, with the kind of object stored. */
    private static List<String> contents(HttpHeaders h) {
        List<String> out = new ArrayList<>();
        for (Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            out.add(e.getKey() + "=" + e.getValue() + " (" + e.getValue().getClass().getSimpleName() + ")");
        }
        out.add("size " + h.size());
        return out;
    }

    private static List<String> drain(Iterator<? extends CharSequence> it) {
        List<String> out = new ArrayList<>();
        it.forEachRemaining(v -> out.add(v.toString()));
        return out;
    }

    /** What the decoder emitted for {@code request}: each object's type, head, fields and decoder result. */
    private static List<String> decode(EmbeddedChannel ch, String request) {
        List<String> out = new ArrayList<>();
        try {
            ch.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.ISO_8859_1));
            Object o;
            while ((o = ch.readInbound()) != null) {
                if (o instanceof HttpRequest r) {
                    out.add(r.method() + " " + r.uri() + " " + r.protocolVersion());
                    out.addAll(contents(r.headers()));
                }
                if (o instanceof HttpContent c) {
                    out.add("content " + c.content().readableBytes());
                }
                if (o instanceof LastHttpContent last) {
                    out.addAll(contents(last.trailingHeaders()));
                }
                DecoderResult result = ((DecoderResultProvider) o).decoderResult();
                Throwable cause = result.cause();
                out.add(result.isSuccess() ? "ok" : cause.getClass().getName() + ": " + cause.getMessage()
                        + (cause.getCause() == null ? "" : " / " + cause.getCause()));
                ReferenceCountUtil.release(o);
            }
        } finally {
            ch.finishAndReleaseAll();
        }
        return out;
    }
}
