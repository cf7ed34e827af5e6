// Property tests of broadcast channels: random senders, subscribers that come
// late, receive slowly, are cancelled or leave early, on virtual time. Under
// "wait" every subscriber gets exactly what was sent after it subscribed, in
// order; under "dropOldest" it only ever misses values, never reorders them;
// under "fail" it gets an unbroken run of them until it falls behind.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BrokenResourceError, ClosedResourceError, EndOfChannel, openBroadcastChannel, run, sleep, taskGroup, type BroadcastChannel, type BroadcastSubscription, type WhenFull } from "../src/index.js";
import { fcOptions, withDeadline } from "./fast-check.js";
import { MockClock } from "./virtual-time.js";

interface Step {
  /** Virtual ms to sleep before the operation. */
  pause: number;
  /** If set, the operation runs under a deadline this far away (so it may be cancelled). */
  deadline: number | null;
  /** For a send: how many values (more than 1: one sendMany). For a receive: 1 is receive(), more is receiveMany(count). */
  count: number;
}

const step: fc.Arbitrary<Step> = fc.record({
  pause: fc.integer({ min: 0, max: 5 }),
  deadline: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null, freq: 2 }),
  count: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 4 })),
});

interface SubscriberSpec {
  /** Virtual ms before it subscribes. */
  delay: number;
  steps: Step[];
  /** After its steps: receive to the end, or close (unsubscribe). */
  drains: boolean;
}

const subscriber: fc.Arbitrary<SubscriberSpec> = fc.record({
  delay: fc.integer({ min: 0, max: 20 }),
  steps: fc.array(step, { maxLength: 10 }),
  drains: fc.boolean(),
});

type Tagged = readonly [sender: number, seq: number];

/** What one subscriber saw. */
interface Seen<T> {
  /** Values sent before it subscribed (`valuesSent` at that moment). */
  from: number;
  received: T[];
  drains: boolean;
  /** How it ended: "end" (EndOfChannel), "closed" (it unsubscribed), "broken" (fell behind). */
  ending: "end" | "closed" | "broken";
  dropped: number;
}

/**
 * A subscriber's life: subscribe after `delay` (unless given its subscription), take `steps`
 * receives (some cancelled), then drain to the end or close. One that comes after the
 * channel was closed cannot subscribe, and sees nothing.
 */
async function subscriberTask<T>(bus: BroadcastChannel<T>, { delay, steps, drains }: SubscriberSpec, seen: Array<Seen<T>>, given?: BroadcastSubscription<T>): Promise<void> {
  let sub: BroadcastSubscription<T>;
  if (given !== undefined) {
    sub = given;
  } else {
    await sleep(delay);
    try {
      sub = bus.subscribe();
    } catch (error) {
      if (error instanceof ClosedResourceError) return;
      throw error;
    }
  }
  const mine: Seen<T> = { from: bus.statistics().valuesSent, received: [], drains, ending: "closed", dropped: 0 };
  seen.push(mine);
  try {
    for (const { pause, deadline, count } of steps) {
      await sleep(pause);
      const outcome = await withDeadline(deadline, () => (count === 1 ? sub.receive().then((v) => [v]) : sub.receiveMany(count)));
      if (outcome.done) {
        expect(outcome.value.length).toBeLessThanOrEqual(count);
        mine.received.push(...outcome.value);
      }
      const { currentBufferUsed, maxBufferSize } = sub.statistics();
      expect(currentBufferUsed).toBeLessThanOrEqual(maxBufferSize); // under every policy, a buffer never overflows
    }
    if (drains) {
      for (;;) {
        await sleep(steps.length % 3); // some drain slowly
        mine.received.push(await sub.receive());
      }
    }
  } catch (error) {
    if (error instanceof EndOfChannel) mine.ending = "end";
    else if (error instanceof BrokenResourceError) mine.ending = "broken";
    else throw error;
  } finally {
    mine.dropped = sub.statistics().dropped;
    sub.close();
  }
}

/** Sends `[sender, seq]` values; only values that went out advance `seq`, so a cancelled value is sent again next. */
async function senderTask(tx: BroadcastChannel<Tagged>, sender: number, steps: Step[], sent: Tagged[]): Promise<void> {
  using _ = tx;
  let seq = 0;
  for (const { pause, deadline, count } of steps) {
    await sleep(pause);
    if (count === 1) {
      const value: Tagged = [sender, seq];
      const outcome = await withDeadline(deadline, () => tx.send(value));
      if (outcome.done) {
        sent.push(value);
        seq++;
      }
    } else {
      const values = Array.from({ length: count }, (_, i): Tagged => [sender, seq + i]);
      let delivered = 0;
      await withDeadline(deadline, () => {
        const sending = tx.sendMany(values);
        return sending.finally(() => (delivered = sending.delivered));
      }).catch(() => {});
      sent.push(...values.slice(0, delivered));
      seq += delivered;
    }
  }
}

describe("broadcast channel properties", () => {
  it('under "wait", every subscriber receives exactly the values sent after it subscribed, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 2, 4, Infinity),
        fc.array(fc.array(step, { maxLength: 8 }), { minLength: 1, maxLength: 3 }),
        fc.array(subscriber, { maxLength: 4 }),
        fc.array(step, { maxLength: 10 }),
        async (buffer, senders, subscribers, referenceSteps) => {
          const sent: Tagged[] = [];
          const seen: Array<Seen<Tagged>> = [];
          let total = 0;
          await run(
            async () => {
              const bus = openBroadcastChannel<Tagged>(buffer);
              // The reference subscribes before anything is sent, is slow and cancelled at times, and drains to the end.
              const reference = bus.subscribe();
              await taskGroup(async (tg) => {
                tg.spawn(() => subscriberTask(bus, { delay: 0, steps: referenceSteps, drains: true }, seen, reference));
                for (const s of subscribers) tg.spawn(() => subscriberTask(bus, s, seen));
                await taskGroup(async (sending) => {
                  senders.forEach((steps, sender) => {
                    const tx = bus.clone();
                    sending.spawn(() => senderTask(tx, sender, steps, sent));
                  });
                });
                bus.close(); // `bus` stayed open so that late subscribers could subscribe
              });
              total = bus.statistics().valuesSent;
            },
            { clock: new MockClock({ autojumpThreshold: 0 }) },
          );
          const reference = seen[0]!;
          expect(reference.from).toBe(0);
          expect(reference.ending).toBe("end");
          expect(total).toBe(sent.length);
          // Nothing lost, nothing duplicated, nothing cancelled delivered, each sender's values in order.
          const key = ([s, q]: Tagged) => `${s}:${q}`;
          expect(reference.received.map(key).sort()).toEqual(sent.map(key).sort());
          for (let s = 0; s < senders.length; s++) {
            const seqs = reference.received.filter(([sender]) => sender === s).map(([, q]) => q);
            expect(seqs).toEqual(seqs.map((_, i) => i));
          }
          // Every subscriber saw the same sequence, from the moment it subscribed.
          for (const { from, received, drains, ending, dropped } of seen) {
            expect(dropped).toBe(0);
            if (drains) {
              expect(ending).toBe("end");
              expect(received).toEqual(reference.received.slice(from));
            } else {
              expect(received).toEqual(reference.received.slice(from, from + received.length));
            }
          }
        },
      ),
      fcOptions(150),
    );
  });

  it('under "dropOldest" and "fail", a subscriber only misses values, never reorders them, and accounts for every one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<WhenFull>("dropOldest", "fail"),
        fc.constantFrom(1, 2, 3),
        fc.array(step, { minLength: 1, maxLength: 15 }),
        fc.array(subscriber, { minLength: 1, maxLength: 4 }),
        async (whenFull, buffer, senderSteps, subscribers) => {
          const sent: Tagged[] = [];
          const seen: Array<Seen<Tagged>> = [];
          await run(
            async () => {
              const bus = openBroadcastChannel<Tagged>(buffer, { whenFull });
              await taskGroup(async (tg) => {
                for (const s of subscribers) tg.spawn(() => subscriberTask(bus, s, seen));
                const tx = bus.clone();
                await taskGroup(async (sending) => sending.spawn(() => senderTask(tx, 0, senderSteps, sent)));
                bus.close();
              });
              expect(bus.statistics().valuesSent).toBe(sent.length);
            },
            { clock: new MockClock({ autojumpThreshold: 0 }) },
          );
          // One sender whose sequence advances only on delivery: the values sent are 0, 1, 2, … in order.
          expect(sent.map(([, q]) => q)).toEqual(sent.map((_, i) => i));
          const total = sent.length;
          for (const { from, received, drains, ending, dropped } of seen) {
            const seqs = received.map(([, q]) => q);
            for (const q of seqs) {
              expect(q).toBeGreaterThanOrEqual(from);
              expect(q).toBeLessThan(total);
            }
            if (whenFull === "dropOldest") {
              // A subsequence of what was sent after it subscribed: strictly increasing.
              for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
              if (drains) {
                expect(ending).toBe("end");
                expect(received.length + dropped).toBe(total - from);
              }
            } else {
              // An unbroken run from the first value sent after it subscribed, until it fell behind.
              expect(dropped).toBe(0);
              expect(seqs).toEqual(seqs.map((_, i) => from + i));
              if (drains && ending === "end") expect(seqs.length).toBe(total - from);
              if (ending === "broken") expect(seqs.length).toBeLessThan(total - from);
            }
          }
        },
      ),
      fcOptions(150),
    );
  });
});
