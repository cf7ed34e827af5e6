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
});
