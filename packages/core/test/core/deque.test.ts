import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Deque } from "../../src/core/deque.js";

describe("Deque", () => {
  it("behaves as an array under any mix of push, shift, pushAll and shiftInto, across wrap-arounds and growth", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), value: fc.integer() }),
      fc.record({ kind: fc.constant("shift" as const) }),
      fc.record({ kind: fc.constant("pushAll" as const), values: fc.array(fc.integer(), { maxLength: 40 }), from: fc.nat(), to: fc.nat() }),
      fc.record({ kind: fc.constant("shiftInto" as const), count: fc.oneof(fc.nat({ max: 50 }), fc.constant(Infinity)) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const deque = new Deque<number>();
        const model: number[] = [];
        for (const o of ops) {
          if (o.kind === "push") {
            deque.push(o.value);
            model.push(o.value);
          } else if (o.kind === "shift") {
            expect(deque.shift()).toBe(model.shift());
          } else if (o.kind === "pushAll") {
            const from = Math.min(o.from % (o.values.length + 1), o.values.length);
            const to = from + ((o.to % (o.values.length - from + 1)) || 0);
            deque.pushAll(o.values, from, to);
            model.push(...o.values.slice(from, to));
          } else {
            const out = [-1];
            deque.shiftInto(out, o.count);
            expect(out).toEqual([-1, ...model.splice(0, Math.min(o.count, model.length))]);
          }
          expect(deque.size).toBe(model.length);
        }
        const rest: number[] = [];
        deque.shiftInto(rest, Infinity);
        expect(rest).toEqual(model);
      }),
      { numRuns: 300 },
    );
  });

  it("pushAll and shiftInto wrap around the end of the ring", () => {
    const deque = new Deque<number>(16);
    for (let i = 0; i < 10; i++) deque.push(i);
    for (let i = 0; i < 10; i++) deque.shift(); // the front is now at slot 10 of 16
    deque.pushAll([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 0, 12); // slots 10..15, then 0..5
    const out: number[] = [];
    deque.shiftInto(out, 7);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6]);
    deque.pushAll([12, 13], 0, 2);
    deque.shiftInto(out, Infinity);
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(deque.size).toBe(0);
  });
});
