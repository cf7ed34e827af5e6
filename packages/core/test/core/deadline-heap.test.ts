import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DeadlineHeap, type DeadlineEntry } from "../../src/core/deadline-heap.js";

function entry(deadline: number, id: number): DeadlineEntry & { id: number } {
  return { deadline, id, heapIndex: -1, heapSeq: 0, fire() {} };
}

describe("DeadlineHeap", () => {
  it("pops entries earliest first, ties in insertion order, under any mix of push, remove and update", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), deadline: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("update" as const), pick: fc.nat(), deadline: fc.integer({ min: 0, max: 20 }) }),
      fc.record({ kind: fc.constant("pop" as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new DeadlineHeap();
        // The model: live entries with their (deadline, push order) keys.
        let live: Array<DeadlineEntry & { id: number; order: number }> = [];
        let nextId = 0;
        let order = 0;
        const byKey = (a: { deadline: number; order: number }, b: { deadline: number; order: number }) =>
          a.deadline - b.deadline || a.order - b.order;
        for (const o of ops) {
          if (o.kind === "push") {
            const e = Object.assign(entry(o.deadline, nextId++), { order: order++ });
            heap.push(e);
            live.push(e);
          } else if (o.kind === "remove" && live.length > 0) {
            const e = live[o.pick % live.length]!;
            heap.remove(e);
            heap.remove(e); // removing twice is harmless
            live = live.filter((x) => x !== e);
            expect(e.heapIndex).toBe(-1);
          } else if (o.kind === "update" && live.length > 0) {
            const e = live[o.pick % live.length]!;
            e.deadline = o.deadline;
            heap.update(e);
          } else if (o.kind === "pop") {
            live.sort(byKey);
            const expected = live.shift();
            expect(heap.pop()).toBe(expected);
          }
          expect(heap.size).toBe(live.length);
          live.sort(byKey);
          expect(heap.peek()).toBe(live[0]);
        }
      }),
    );
  });

  it("keeps its order when most entries are removed from the middle", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 100, maxLength: 600 }),
        fc.array(fc.nat(), { minLength: 50, maxLength: 550 }),
        (deadlines, picks) => {
          const heap = new DeadlineHeap();
          let live = deadlines.map((deadline, id) => Object.assign(entry(deadline, id), { order: id }));
          for (const e of live) heap.push(e);
          for (const pick of picks) {
            if (live.length === 0) break;
            const e = live[pick % live.length]!;
            heap.remove(e);
            live = live.filter((x) => x !== e);
            expect(e.heapIndex).toBe(-1);
            expect(heap.size).toBe(live.length);
          }
          live.sort((a, b) => a.deadline - b.deadline || a.order - b.order);
          for (const expected of live) {
            expect(heap.peek()).toBe(expected);
            expect(heap.pop()).toBe(expected);
          }
          expect(heap.size).toBe(0);
          expect(heap.peek()).toBeUndefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});

