package dev.outrider.proxy.http;

import io.netty.handler.codec.CharSequenceValueConverter;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.DefaultHeaders.NameValidator;
import io.netty.handler.codec.DefaultHeaders.ValueValidator;
import io.netty.handler.codec.HeadersUtils;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map.Entry;
import java.util.Set;
import java.util.function.Function;

import static io.netty.util.internal.ObjectUtil.checkNotNull;

/**
 * A request's header fields in one array, {@code [name0, value0, name1, value1, ...]} in arrival order, for the
 * HTTP/1.1 decoder ({@link Http1ServerCodec}, through {@link CompactHttpHeadersFactory}) and local responses
 * ({@link LocalResponses}): a message carries a handful of fields (a request at most {@code http.maxHeaderCount}),
 * so a linear scan finds a name as fast as a hash table would, without {@link DefaultHttpHeaders}' entry object per
 * field, its 16-slot table and its list head. A lookup compares names as {@link DefaultHttpHeaders} does
 * ({@link AsciiString#contentEqualsIgnoreCase}).
 *
 * <p>Behaves as {@link DefaultHttpHeaders} made by {@link DefaultHttpHeadersFactory#headersFactory()} (what the
 * decoder used before): the same validators (Netty's name and value validators, taken from that factory), the
 * same exceptions for the same input, {@link #get} the first value, {@link #getAll} the values in arrival order,
 * {@link #set} moves a field to the end, {@link #valueCharSequenceIterator} walks the values last first and can
 * remove them, {@link #iteratorCharSequence} is read-only and its entries write through {@code setValue}
 * (checked by {@code CompactHttpHeadersTest} against Netty's own map). Differences: {@link #toString} names this
 * class; {@link #equals} holds between two of these (as Netty's holds only between two of its own); fields added
 * from a {@link DefaultHttpHeaders} are validated (Netty copies them unchecked from a map with its validators:
 * same result, they were checked there); a field removed by name during an {@link #iteratorCharSequence} walk,
 * or one of the walked name added during a {@link #valueCharSequenceIterator} walk, shifts that walk.
 *
 * <p>Threading: as any {@link HttpHeaders}, owned by the request's event loop.
 */
public final class CompactHttpHeaders extends HttpHeaders {
    private static final NameValidator<CharSequence> NAMES =
            DefaultHttpHeadersFactory.headersFactory().getNameValidator();
    private static final ValueValidator<CharSequence> VALUES =
            DefaultHttpHeadersFactory.headersFactory().getValueValidator();
    /** {@code DefaultHeaders.HASH_CODE_SEED}, so equal contents hash alike in both maps. */
    private static final int HASH_CODE_SEED = 0xc2b2ae35;
    private static final CharSequence[] NONE = {};

    /** Names at even indexes, each followed by its value; {@code 2 * size} slots in use. */
    private CharSequence[] fields;
    private int size;

    /** An empty map with room for {@code capacity} fields before it grows. */
    public CompactHttpHeaders(int capacity) {
        fields = capacity <= 0 ? NONE : new CharSequence[2 * capacity];
    }

    private CompactHttpHeaders(CompactHttpHeaders from) {
        fields = Arrays.copyOf(from.fields, Math.max(2, 2 * from.size));
        size = from.size;
    }

    // --- reading -----------------------------------------------------------------------------------------

    @Override
    public String get(String name) {
        return get((CharSequence) name);
    }

    @Override
    public String get(CharSequence name) {
        int i = next(checkNotNull(name, "name"), 0);
        return i < 0 ? null : fields[i + 1].toString();
    }

    /** {@code DefaultHeaders.getInt} and the like: the first value converted; null if absent or not convertible. */
    private <T> T converted(CharSequence name, Function<CharSequence, T> conversion) {
        int i = next(checkNotNull(name, "name"), 0);
        try {
            return i < 0 ? null : conversion.apply(fields[i + 1]);
        } catch (RuntimeException ignore) {
            return null;
        }
    }

    @Override
    public Integer getInt(CharSequence name) {
        return converted(name, Converter.INSTANCE::convertToInt);
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v != null ? v : defaultValue;
    }

    @Override
    public Short getShort(CharSequence name) {
        return converted(name, Converter.INSTANCE::convertToShort);
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v != null ? v : defaultValue;
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        return converted(name, Converter.INSTANCE::convertToTimeMillis);
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v != null ? v : defaultValue;
    }

    @Override
    public List<String> getAll(String name) {
        return getAll((CharSequence) name);
    }

    /** The values in arrival order; a list object only when there are two or more. */
    @Override
    public List<String> getAll(CharSequence name) {
        int i = next(checkNotNull(name, "name"), 0);
        if (i < 0) {
            return Collections.emptyList();
        }
        int j = next(name, i + 2);
        if (j < 0) {
            return Collections.singletonList(fields[i + 1].toString());
        }
        List<String> values = new ArrayList<>(4);
        for (; i >= 0; i = next(name, i + 2)) {
            values.add(fields[i + 1].toString());
        }
        return Collections.unmodifiableList(values);
    }

    /** How many values {@code name} has: {@code getAll(name).size()} without the list. */
    public int count(CharSequence name) {
        int n = 0;
        for (int i = next(checkNotNull(name, "name"), 0); i >= 0; i = next(name, i + 2)) {
            n++;
        }
        return n;
    }

    @Override
    public List<Entry<String, String>> entries() {
        if (isEmpty()) {
            return Collections.emptyList();
        }
        List<Entry<String, String>> entries = new ArrayList<>(size);
        for (Entry<String, String> e : this) {
            entries.add(e);
        }
        return entries;
    }

    @Deprecated
    @Override
    public Iterator<Entry<String, String>> iterator() {
        return HeadersUtils.iteratorAsString(this::iteratorCharSequence);
    }

    @Override
    public Iterator<Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        return new CompactHeaderViews.FieldIterator(this);
    }

    @Override
    public Iterator<String> valueStringIterator(CharSequence name) {
        return new CompactHeaderViews.Strings(valueCharSequenceIterator(name));
    }

    /** The values of {@code name}, last first (as {@link DefaultHttpHeaders}' bucket chain); supports remove. */
    @Override
    public Iterator<CharSequence> valueCharSequenceIterator(CharSequence name) {
        return new CompactHeaderViews.ValueIterator(this, checkNotNull(name, "name"));
    }

    @Override
    public boolean contains(String name) {
        return contains((CharSequence) name);
    }

    @Override
    public boolean contains(CharSequence name) {
        return next(checkNotNull(name, "name"), 0) >= 0;
    }

    @Override
    public boolean contains(String name, String value, boolean ignoreCase) {
        return contains((CharSequence) name, (CharSequence) value, ignoreCase);
    }

    @Override
    public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
        checkNotNull(name, "name");
        for (int i = next(name, 0); i >= 0; i = next(name, i + 2)) {
            if (ignoreCase ? AsciiString.contentEqualsIgnoreCase(value, fields[i + 1])
                    : AsciiString.contentEquals(value, fields[i + 1])) {
                return true;
            }
        }
        return false;
    }

    /** As Netty's, with no value iterator made when {@code name} is absent (Connection, Transfer-Encoding). */
    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        return next(checkNotNull(name, "name"), 0) >= 0 && super.containsValue(name, value, ignoreCase);
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Set<String> names() {
        return new CompactHeaderViews.NameSet(this);
    }

    // --- writing -----------------------------------------------------------------------------------------

    @Override
    public HttpHeaders add(String name, Object value) {
        return add((CharSequence) name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        return addValue(name, fromObject(name, value));
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        return add((CharSequence) name, values);
    }

    @Override
    public HttpHeaders add(CharSequence name, Iterable<?> values) {
        for (Object value : values) {
            add(name, value);
        }
        return this;
    }

    @Override
    public HttpHeaders add(HttpHeaders headers) {
        if (headers == this) {
            throw new IllegalArgumentException("can't add to itself.");
        }
        addAll(checkNotNull(headers, "headers"));
        return this;
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        return addValue(name, Converter.INSTANCE.convertInt(value));
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        return addValue(name, Converter.INSTANCE.convertShort(value));
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        return setValue(name, checkNotNull(fromObject(name, value), "convertedValue"));
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        return set((CharSequence) name, values);
    }

    /** As Netty's: the name checked once, values up to the first null added. */
    @Override
    public HttpHeaders set(CharSequence name, Iterable<?> values) {
        NAMES.validateName(name);
        removeAll(name);
        for (Object v : values) {
            if (v == null) {
                break;
            }
            CharSequence converted = fromObject(name, v);
            validateValue(name, converted);
            append(name, converted);
        }
        return this;
    }

    @Override
    public HttpHeaders set(HttpHeaders headers) {
        checkNotNull(headers, "headers");
        if (headers != this) {
            clear();
            addAll(headers);
        }
        return this;
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        return setValue(name, Converter.INSTANCE.convertInt(value));
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        return setValue(name, Converter.INSTANCE.convertShort(value));
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        removeAll(checkNotNull(name, "name"));
        return this;
    }

    @Override
    public HttpHeaders clear() {
        Arrays.fill(fields, 0, 2 * size, null);
        size = 0;
        return this;
    }

    @Override
    public HttpHeaders copy() {
        return new CompactHttpHeaders(this);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CompactHttpHeaders other) || other.size != size) {
            return false;
        }
        if (other == this) {
            return true;
        }
        for (String name : names()) {
            if (!other.getAll(name).equals(getAll(name))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        int result = HASH_CODE_SEED;
        for (CharSequence name : distinctNames()) {
            result = 31 * result + AsciiString.hashCode(name);
            for (int i = next(name, 0); i >= 0; i = next(name, i + 2)) {
                result = 31 * result + AsciiString.CASE_SENSITIVE_HASHER.hashCode(fields[i + 1]);
            }
        }
        return result;
    }

    // --- internals ---------------------------------------------------------------------------------------

    /** Slots in use: two per field. */
    int slots() {
        return 2 * size;
    }

    /** The name (even slot) or value (odd slot) at {@code slot}. */
    CharSequence at(int slot) {
        return fields[slot];
    }

    /** Whether the field at (even) {@code slot} is named {@code name}, as {@link DefaultHttpHeaders} compares. */
    boolean isNamed(int slot, CharSequence name) {
        CharSequence n = fields[slot];
        return n == name || AsciiString.contentEqualsIgnoreCase(name, n);
    }

    /** Sets the value at (even) {@code slot} to {@code value} if the field there is still {@code name: old}. */
    void replaceValue(int slot, CharSequence name, CharSequence old, CharSequence value) {
        if (slot < 2 * size && fields[slot] == name && fields[slot + 1] == old) {
            fields[slot + 1] = value;
        }
    }

    /** The slot of the first field named {@code name} at or after slot {@code from}, or -1. */
    private int next(CharSequence name, int from) {
        CharSequence[] f = fields;
        for (int i = from, end = 2 * size; i < end; i += 2) {
            CharSequence n = f[i];
            if (n == name || AsciiString.contentEqualsIgnoreCase(name, n)) {
                return i;
            }
        }
        return -1;
    }

    /** {@code DefaultHeaders.add(K, V)}: name, then value, validated; then the null check. */
    private HttpHeaders addValue(CharSequence name, CharSequence value) {
        NAMES.validateName(name);
        validateValue(name, value);
        checkNotNull(value, "value");
        append(name, value);
        return this;
    }

    /** {@code DefaultHeaders.set(K, V)}: as {@link #addValue}, every earlier field of the name removed first. */
    private HttpHeaders setValue(CharSequence name, CharSequence value) {
        NAMES.validateName(name);
        validateValue(name, value);
        checkNotNull(value, "value");
        removeAll(name);
        append(name, value);
        return this;
    }

    private static void validateValue(CharSequence name, CharSequence value) {
        try {
            VALUES.validate(value);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Validation failed for header '" + name + "'", e);
        }
    }

    private static CharSequence fromObject(CharSequence name, Object value) {
        try {
            return Converter.INSTANCE.convertObject(checkNotNull(value, "value"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Failed to convert object value for header '" + name + '\'', e);
        }
    }

    /** Copies another map's fields: unchecked from one of these (already validated alike), else validated. */
    private void addAll(HttpHeaders headers) {
        if (headers instanceof CompactHttpHeaders other) {
            for (int i = 0, end = 2 * other.size; i < end; i += 2) {
                append(other.fields[i], other.fields[i + 1]);
            }
            return;
        }
        for (Iterator<Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence(); it.hasNext(); ) {
            Entry<CharSequence, CharSequence> e = it.next();
            addValue(e.getKey(), e.getValue());
        }
    }

    private void append(CharSequence name, CharSequence value) {
        int at = 2 * size;
        if (at == fields.length) {
            fields = Arrays.copyOf(fields, Math.max(8, 2 * fields.length));
        }
        fields[at] = name;
        fields[at + 1] = value;
        size++;
    }

    private void removeAll(CharSequence name) {
        for (int i = next(name, 0); i >= 0; i = next(name, i)) {
            removeAt(i);
        }
    }

    void removeAt(int slot) {
        int end = 2 * size;
        System.arraycopy(fields, slot + 2, fields, slot, end - slot - 2);
        fields[end - 2] = null;
        fields[end - 1] = null;
        size--;
    }

    /** The names as stored, each once (as {@link Object#equals} tells them apart, as Netty's map does). */
    Set<CharSequence> distinctNames() {
        if (size == 0) {
            return Collections.emptySet();
        }
        Set<CharSequence> names = new LinkedHashSet<>(size);
        for (int i = 0, end = 2 * size; i < end; i += 2) {
            names.add(fields[i]);
        }
        return names;
    }

    /** Netty's value conversion for HTTP headers ({@code DefaultHttpHeaders.HeaderValueConverter}). */
    private static final class Converter extends CharSequenceValueConverter {
        static final Converter INSTANCE = new Converter();

        @Override
        public CharSequence convertObject(Object value) {
            if (value instanceof CharSequence) {
                return (CharSequence) value;
            }
            if (value instanceof Date) {
                return DateFormatter.format((Date) value);
            }
            if (value instanceof Calendar) {
                return DateFormatter.format(((Calendar) value).getTime());
            }
            return value.toString();
        }
    }
}
