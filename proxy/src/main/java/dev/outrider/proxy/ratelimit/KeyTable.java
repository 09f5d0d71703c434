package dev.outrider.proxy.ratelimit;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongPredicate;

/**
 * The cells of one rule's keys (one table for its rate, one for its concurrency limit).
 *
 * <p>Memory: a cell exists only while it holds something a fresh one would not (a bucket not yet full, a
 * request in flight); {@link #sweep} retires the others. Cells of all tables together are bounded by
 * {@link TrackedKeys}: at the bound, a key without a cell is counted under the table's one overflow cell,
 * with the rule's limit. So a flood of distinct keys neither grows memory nor gets a fresh budget per key:
 * together, the new keys get the budget of one caller until idle cells are swept and slots free up. Callers
 * that already have a cell keep it.
 *
 * <p>Thread-safe: {@link #cell} from any event loop (a map read on the fast path, no allocation), {@link #sweep}
 * from the sweeper thread.
 */
final class KeyTable {
    private final ConcurrentHashMap<String, Cell> cells = new ConcurrentHashMap<>();
    private final Cell overflow = new Cell();
    private final TrackedKeys tracked;

    KeyTable(TrackedKeys tracked) {
        this.tracked = tracked;
    }

    /** The cell of {@code key}: its own, a new one, or the overflow cell when the bound is reached. */
    Cell cell(String key) {
        Cell c = cells.get(key);
        if (c != null) {
            return c;
        }
        if (!tracked.tryTake()) {
            tracked.overflowed();
            return overflow;
        }
        Cell created = new Cell();
        Cell raced = cells.putIfAbsent(key, created);
        if (raced != null) {
            tracked.giveBack();
            return raced;
        }
        return created;
    }

    /** After {@code cell} was found retired: unlinks it so that {@link #cell} makes a fresh one. */
    void forget(String key, Cell cell) {
        cells.remove(key, cell);
    }

    /**
     * Retires and removes every cell whose value {@code idle} accepts; each retirement is a compare-and-set
     * against the value seen, so a cell that an event loop changed meanwhile stays.
     *
     * @return how many cells were retired
     */
    int sweep(LongPredicate idle) {
        int retired = 0;
        for (Iterator<Map.Entry<String, Cell>> it = cells.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Cell> e = it.next();
            Cell c = e.getValue();
            long v = c.get();
            if (v != Cell.RETIRED && idle.test(v) && c.compareAndSet(v, Cell.RETIRED)) {
                cells.remove(e.getKey(), c);
                tracked.giveBack();
                retired++;
            } else if (v == Cell.RETIRED) {
                cells.remove(e.getKey(), c);
            }
        }
        return retired;
    }

    boolean isEmpty() {
        return cells.isEmpty();
    }
}
