// Property tests of memory channels: random interleavings of send, receive,
// close and cancellation across several tasks, on virtual time. Whatever the
// schedule, no value is lost, duplicated or reordered, and every task ends.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { EndOfChannel, isCancelled, openMemoryChannel, run, sleep, taskGroup } from "../src/index.js";
import { fcOptions, withDeadline } from "./fast-check.js";
import { MockClock } from "./virtual-time.js";

interface Step {
  /** Virtual ms to sleep before the operation. */
  pause: number;
  /** If set, the operation runs under a deadline this far away (so it may be cancelled). */
  deadline: number | null;
}

const step: fc.Arbitrary<Step> = fc.record({
  pause: fc.integer({ min: 0, max: 5 }),
  deadline: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null, freq: 2 }),
});

const scenario = fc.record({
  buffer: fc.constantFrom(0, 1, 3, Infinity),
  senders: fc.array(fc.array(step, { maxLength: 8 }), { minLength: 1, maxLength: 3 }),
  receivers: fc.array(fc.array(step, { maxLength: 12 }), { minLength: 1, maxLength: 3 }),
  /** Receivers that, after their steps, drain the channel to the end (at least one, else senders could wait forever). */
  drainers: fc.integer({ min: 1, max: 3 }),
});

type Tagged = readonly [sender: number, seq: number];

describe("memory channel properties", () => {
  it("under random cancellation, every value sent is received exactly once, in order per sender, and every task ends", async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ buffer, senders, receivers, drainers }) => {
        const sent: Tagged[] = [];
        const received: Tagged[][] = receivers.map(() => []);
        const cancelledSends: Tagged[] = [];
        await run(
          async () => {
            const [send, receive] = openMemoryChannel<Tagged>(buffer);
            await taskGroup(async (tg) => {
              senders.forEach((steps, sender) => {
                const tx = send.clone();
                tg.spawn(async () => {
                  using _ = tx;
                  let seq = 0;
                  for (const { pause, deadline } of steps) {
                    await sleep(pause);
                    const value: Tagged = [sender, seq];
                    const outcome = await withDeadline(deadline, () => tx.send(value));
                    if (outcome.done) {
                      sent.push(value);
                      seq++; // only delivered values advance the sequence, so order is checkable
                    } else {
                      cancelledSends.push(value);
                    }
                  }
                });
              });
              send.close();
              receivers.forEach((steps, r) => {
                const rx = receive.clone();
                tg.spawn(async () => {
                  using _ = rx;
                  try {
                    for (const { pause, deadline } of steps) {
                      await sleep(pause);
                      const outcome = await withDeadline(deadline, () => rx.receive());
                      if (outcome.done) received[r]!.push(outcome.value);
                    }
                    if (r < drainers) for await (const value of rx) received[r]!.push(value);
                  } catch (error) {
                    if (!(error instanceof EndOfChannel)) throw error;
                  }
                });
              });
              receive.close(); // the clones stay open; receiver 0 always drains to the end
            });
          },
          { clock: new MockClock({ autojumpThreshold: 0 }) },
        );
        const all = received.flat();
        // Nothing lost, nothing duplicated, nothing cancelled delivered.
        const key = ([s, q]: Tagged) => `${s}:${q}`;
        expect(all.map(key).sort()).toEqual(sent.map(key).sort());
        // A cancelled send carries the sequence number that the next delivered value reuses,
        // so "cancelled values were not delivered" is the same as the multiset check above
        // plus per-sender order below.
        expect(cancelledSends.every(([s]) => s < senders.length)).toBe(true);
        // Each receiver sees each sender's values in the order they were sent.
        for (const mine of received) {
          for (let s = 0; s < senders.length; s++) {
            const seqs = mine.filter(([sender]) => sender === s).map(([, q]) => q);
            expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
          }
        }
        // With one receiver, the global order per sender is exactly 0, 1, 2, …
        if (receivers.length === 1) {
          for (let s = 0; s < senders.length; s++) {
            const seqs = received[0]!.filter(([sender]) => sender === s).map(([, q]) => q);
            expect(seqs).toEqual(seqs.map((_, i) => i));
          }
        }
      }),
      fcOptions(200),
    );
  });

  it("when every receiver closes early, senders end with BrokenResourceError and nothing else is lost", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 2, Infinity),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 10 }),
        async (buffer, toSend, toReceive) => {
          const outcomes: string[] = [];
          let received = 0;
          await run(
            async () => {
              const [send, receive] = openMemoryChannel<number>(buffer);
              await taskGroup(async (tg) => {
                tg.spawn(async () => {
                  using tx = send;
                  for (let i = 0; i < toSend; i++) {
                    try {
                      await tx.send(i);
                      outcomes.push("sent");
                    } catch (error) {
                      if (isCancelled(error)) throw error;
                      outcomes.push((error as Error).name);
                      return;
                    }
                  }
                });
                tg.spawn(async () => {
                  using rx = receive;
                  for (let i = 0; i < toReceive; i++) {
                    try {
                      await rx.receive();
                      received++;
                    } catch (error) {
                      if (error instanceof EndOfChannel) return;
                      throw error;
                    }
                  }
                });
              });
            },
            { clock: new MockClock({ autojumpThreshold: 0 }) },
          );
          const sentCount = outcomes.filter((o) => o === "sent").length;
          expect(received).toBe(Math.min(toSend, toReceive));
          expect(received).toBeLessThanOrEqual(sentCount);
          // A sender stops only because the receiver went away, and says so.
          if (sentCount < toSend) expect(outcomes.at(-1)).toBe("BrokenResourceError");
          // Values beyond what was received are the ones the buffer held when the receiver left.
          expect(sentCount - received).toBeLessThanOrEqual(buffer);
        },
      ),
      fcOptions(100),
    );
  });
});
