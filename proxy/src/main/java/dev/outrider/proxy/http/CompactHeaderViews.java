package dev.outrider.proxy.http;

import java.util.AbstractCollection;
import java.util.Iterator;
import java.util.Map;
import java.util.Map.Entry;
import java.util.NoSuchElementException;
import java.util.Set;

import static io.netty.util.internal.ObjectUtil.checkNotNull;

/**
 * The iterators and views {@link CompactHttpHeaders} hands out, each behaving as its counterpart from Netty's
 * {@code DefaultHttpHeaders} (see that class). Threading: as the map, the request's event loop.
 */
final class CompactHeaderViews {
    private CompactHeaderViews() {
    }

    /** One field as the iterator returns it; {@code setValue} writes through while the field is where it was. */
    static final class Field implements Entry<CharSequence, CharSequence> {
        private final CompactHttpHeaders map;
        private final int slot;
        private final CharSequence name;
        private CharSequence value;

        Field(CompactHttpHeaders map, int slot) {
            this.map = map;
            this.slot = slot;
            this.name = map.at(slot);
            this.value = map.at(slot + 1);
        }

        @Override
        public CharSequence getKey() {
            return name;
        }

        @Override
        public CharSequence getValue() {
            return value;
        }

        @Override
        public CharSequence setValue(CharSequence v) {
            checkNotNull(v, "value");
            CharSequence old = value;
            map.replaceValue(slot, name, old, v);
            value = v;
            return old;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Map.Entry<?, ?> e && name.equals(e.getKey()) && value.equals(e.getValue());
        }

        @Override
        public int hashCode() {
            return name.hashCode() ^ value.hashCode();
        }

        @Override
        public String toString() {
            return name.toString() + '=' + value.toString();
        }
    }

    static final class FieldIterator implements Iterator<Entry<CharSequence, CharSequence>> {
        private final CompactHttpHeaders map;
        private int slot;

        FieldIterator(CompactHttpHeaders map) {
            this.map = map;
        }

        @Override
        public boolean hasNext() {
            return slot < map.slots();
        }

        @Override
        public Entry<CharSequence, CharSequence> next() {
            if (slot >= map.slots()) {
                throw new NoSuchElementException();
            }
            Field f = new Field(map, slot);
            slot += 2;
            return f;
        }

        @Override
        public void remove() {
            throw new UnsupportedOperationException("read only");
        }
    }

    /**
     * The values of one name, last first. It counts what it returned rather than holding a slot, so removing
     * other fields during the walk (as {@code HeaderHygiene} removes the fields a Connection value names) does
     * not disturb it.
     */
    static final class ValueIterator implements Iterator<CharSequence> {
        private final CompactHttpHeaders map;
        private final CharSequence name;
        /** Values of the name returned and not removed, counted from the last. */
        private int passed;
        private boolean canRemove;

        ValueIterator(CompactHttpHeaders map, CharSequence name) {
            this.map = map;
            this.name = name;
        }

        /** The slot of the value after the {@code passed} last ones, or -1. */
        private int slotAfterPassed() {
            int seen = 0;
            for (int i = map.slots() - 2; i >= 0; i -= 2) {
                if (map.isNamed(i, name) && seen++ == passed) {
                    return i;
                }
            }
            return -1;
        }

        @Override
        public boolean hasNext() {
            return slotAfterPassed() >= 0;
        }

        @Override
        public CharSequence next() {
            int i = slotAfterPassed();
            if (i < 0) {
                throw new NoSuchElementException();
            }
            passed++;
            canRemove = true;
            return map.at(i + 1);
        }

        @Override
        public void remove() {
            if (!canRemove) {
                throw new IllegalStateException();
            }
            passed--;
            map.removeAt(slotAfterPassed());
            canRemove = false;
        }
    }

    /** {@code HeadersUtils.namesAsString}: a live view; contains ignores case, iteration gives each stored name. */
    static final class NameSet extends AbstractCollection<String> implements Set<String> {
        private final CompactHttpHeaders map;

        NameSet(CompactHttpHeaders map) {
            this.map = map;
        }

        @Override
        public int size() {
            return map.distinctNames().size();
        }

        @Override
        public boolean isEmpty() {
            return map.isEmpty();
        }

        @Override
        public boolean contains(Object o) {
            return map.contains(o.toString());
        }

        @Override
        public Iterator<String> iterator() {
            Iterator<CharSequence> names = map.distinctNames().iterator();
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return names.hasNext();
                }

                @Override
                public String next() {
                    CharSequence n = names.next();
                    return n != null ? n.toString() : null;
                }

                @Override
                public void remove() {
                    names.remove();
                }
            };
        }
    }

    /** {@code DefaultHttpHeaders.valueStringIterator}: the values as Strings; remove passes through. */
    static final class Strings implements Iterator<String> {
        private final Iterator<CharSequence> values;

        Strings(Iterator<CharSequence> values) {
            this.values = values;
        }

        @Override
        public boolean hasNext() {
            return values.hasNext();
        }

        @Override
        public String next() {
            return values.next().toString();
        }

        @Override
        public void remove() {
            values.remove();
        }
    }
}
