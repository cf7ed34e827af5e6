// Model-based test of the producer, produce() (issue 11). A scripted producer —
// explicit or implicit start, values that take 0–2 ms of virtual time each to
// compute, an end by returning, by throwing, or never, a finally block whose
// cleanup may take time — is consumed by random commands: receive() in tasks of
// their own (plain, under a deadline, or in a cancelled scope), for-await loops
// that break after k values, close() and asyncDispose from other tasks,
// cancellation of waiting consumers, time passing. The model follows DESIGN §3
// and predicts exactly how every consumer operation ends, how many values the
// producer has computed (laziness: with buffer 0 it never computes a value
// before it is asked for; with buffer N it runs at most N ahead) and when its
// finally block has run. Independently of the model: the values consumers got are
// 0, 1, 2, … without gap or repeat and in order for each consumer; no consumer
// sees a Cancelled its own scope did not cause; the finally block runs exactly
// once; nothing is left parked and the run ends.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CancelScope, produce, sleep, sleepForever, type ProducerContext, type ProducerStream } from "../../src/index.js";
import {
  FOREIGN_CANCELLED,
  PENDING,
  PROPERTY_TIMEOUT,
  Step,
  assertProperty,
  errorName,
  failed,
  ok,
  pick,
  runModel,
  settle,
  snapshotOf,
  timingArbitrary,
  timingLabel,
  withinRealTime,
  type Outcome,
  type RealBase,
  type Timing,
} from "./harness.js";
import { MockClock } from "../virtual-time.js";
import { run } from "../../src/index.js";

// ------------------------------------------------------------------- the producer's script

type End = "return" | "throw" | "forever";

interface Script {
  readonly buffer: number;
  readonly explicitStart: boolean;
  /** Virtual ms to compute value i: costs[i % costs.length]; value 0 costs nothing without an explicit start (it is computed during setup). */
  readonly costs: readonly number[];
  readonly total: number;
  readonly end: End;
  /** Virtual ms that the finally block's (shielded) cleanup takes. */
  readonly cleanupCost: number;
}

const scriptArbitrary: fc.Arbitrary<Script> = fc
  .record({
    buffer: fc.constantFrom(0, 0, 1, 2, 3),
    explicitStart: fc.boolean(),
    costs: fc.array(fc.constantFrom(0, 0, 1, 2), { minLength: 1, maxLength: 5 }),
    total: fc.integer({ min: 0, max: 4 }),
    end: fc.constantFrom<End>("return", "throw", "throw", "forever"),
    cleanupCost: fc.constantFrom(0, 0, 1),
  })
  .map((script) => {
    // Setup must end without time passing (the stream is needed before the first command):
    // a producer that ends during setup does so at once, and one that throws then is another test's.
    if (!script.explicitStart && script.total === 0 && script.end !== "forever") {
      return { ...script, explicitStart: script.end === "throw", cleanupCost: script.end === "throw" ? script.cleanupCost : 0 };
    }
    return script;
  });

function costOf(script: Script, i: number): number {
  return i === 0 && !script.explicitStart ? 0 : script.costs[i % script.costs.length]!;
}

class Boom extends Error {
  override name = "Boom";
}

/** What the producer function reports about itself. */
interface ProducerLog {
  /** How many values it has computed (called send() for). */
  produced: number;
  finallyEntered: number;
  finallyDone: number;
}

function producerOf(script: Script, log: ProducerLog): (ctx: ProducerContext<number>) => Promise<void> {
  return async (ctx) => {
    try {
      if (script.explicitStart) await ctx.started();
      for (let i = 0; script.end === "forever" || i < script.total; i++) {
        const cost = costOf(script, i);
        if (cost > 0) await sleep(cost);
        log.produced = i + 1;
        await ctx.send(i);
      }
      if (script.end === "throw") throw new Boom("the producer failed");
    } finally {
      log.finallyEntered++;
      if (script.cleanupCost > 0) await new CancelScope({ shield: true }).run(() => sleep(script.cleanupCost));
      log.finallyDone++;
    }
  };
}

// ------------------------------------------------------------------- the model

/** A consumer operation: receive(), a for-await loop that breaks after `k` values, or close()/asyncDispose. */
type ConsumerOp =
  | { readonly kind: "receive"; readonly op: number }
  | { readonly kind: "loop"; readonly op: number; readonly k: number; readonly values: number[] }
  | { readonly kind: "close"; readonly op: number };

type Phase =
  /** Waiting for the consumer to ask (a receiver waiting on the channel); then computing the next value, or sending value 0 (implicit start). */
  | { readonly kind: "request"; readonly then: "compute" | "send" }
  /** About to compute the next value (buffered producers go on without asking). */
  | { readonly kind: "go" }
  | { readonly kind: "computing"; readonly until: number }
  /** Parked in send(value): the buffer is full and no receiver waits. */
  | { readonly kind: "sending"; readonly value: number }
  | { readonly kind: "cleanup"; readonly until: number; readonly why: Why }
  | { readonly kind: "ended" };

type Why = "return" | "throw" | "cancelled";

const PRODUCE_OP = 0;

class ProducerModel {
  readonly script: Script;
  /** With buffer 0 the producer waits for the request of the next value after each send. */
  readonly lazy: boolean;
  /** The values channel's own buffer: one value of the head start waits in send(). */
  readonly channelMax: number;
  now = 0;
  #nextId = PRODUCE_OP + 1;
  readonly outcomes = new Map<number, Outcome>([[PRODUCE_OP, ok()]]);
  readonly deadlines = new Map<number, number>();
  /** Operations in progress, by id. */
  readonly pending = new Map<number, ConsumerOp>();

  // the values channel
  readonly channel: number[] = [];
  readonly receivers: Array<Extract<ConsumerOp, { kind: "receive" | "loop" }>> = [];
  sendEndClosed = false;
  /** The producer's error, until a receiver has been given it. */
  failure: string | null = null;
  /** Set once the producer was cancelled by its own scope (not by a close): consumers then get BrokenResourceError. */
  broken = false;

  // the producer
  phase: Phase;
  next = 0;
  produced = 0;
  finallyEntered = 0;
  finallyDone = 0;

  // the stream
  closing = false;
  closeResult: Outcome | null = null;
  readonly closers: Array<Extract<ConsumerOp, { kind: "close" | "loop" }>> = [];

  /** Work that happens when a task resumes (a loop asking for its next value): after the current step. */
  readonly #later: Array<() => void> = [];

  constructor(script: Script) {
    this.script = script;
    this.lazy = script.buffer === 0;
    this.channelMax = script.buffer === 0 ? 0 : script.buffer - 1;
    if (script.explicitStart) {
      this.phase = { kind: "request", then: "compute" };
    } else if (script.total === 0 && script.end === "return") {
      // Returned during setup: an empty stream (cleanup is instantaneous in this case, see the script).
      this.phase = { kind: "go" };
      this.#finish("return");
    } else {
      // send(0) during setup ends it; the value is sent once the consumer asks.
      this.produced = 1;
      this.phase = { kind: "request", then: "send" };
    }
  }

  id(): number {
    return this.#nextId++;
  }

  /** Consumer operations that wait, oldest first (a close() or a loop closing waits too, but cannot be cancelled). */
  waiting(): number[] {
    return [...this.pending.keys()].sort((a, b) => a - b);
  }

  get #receiving(): boolean {
    return this.receivers.length > 0;
  }

  /** Whether a close may be issued (always: from any task, while others wait or close). */
  mayClose(): boolean {
    return true;
  }

  /**
   * Whether a receive or loop may start. Several receive() calls may wait at once, and a
   * close() command may meet them; but a loop that breaks closes the stream from inside a
   * step, in the same tick in which the producer may be serving another waiting consumer,
   * and which of the two tasks runs first is not part of the contract: a loop runs alone.
   */
  mayReceive(kind: "receive" | "loop"): boolean {
    const loops = [...this.pending.values()].some((c) => c.kind === "loop");
    return !loops && (kind === "receive" || !this.#receiving);
  }

  /** Whether a for-await loop would stop of itself: it breaks (buffer 0), or the producer ends or must wait for time. */
  loopEnds(): boolean {
    return this.lazy || this.script.end !== "forever" || this.script.costs.some((cost) => cost > 0);
  }

  // ---------------------------------------------------------------- consumer side

  receive(op: number, timing: Timing): void {
    this.#consume({ kind: "receive", op }, timing);
  }

  loop(op: number, k: number, timing: Timing): void {
    this.#consume({ kind: "loop", op, k, values: [] }, timing);
  }

  #consume(consumer: Extract<ConsumerOp, { kind: "receive" | "loop" }>, timing: Timing): void {
    this.outcomes.set(consumer.op, PENDING);
    this.pending.set(consumer.op, consumer);
    if (timing.kind === "deadline") this.deadlines.set(consumer.op, this.now + timing.in);
    if (timing.kind === "precancelled") return this.#end(consumer.op, failed("Cancelled"));
    this.#ask(consumer);
    this.#quiesce();
  }

  /** One receive on the stream (a loop's next()): trio's channel receive, behind the stream's closed check. */
  #ask(consumer: Extract<ConsumerOp, { kind: "receive" | "loop" }>): void {
    if (this.closing) return this.#fail(consumer, "ClosedResourceError");
    if (this.channel.length > 0) {
      const value = this.channel.shift()!;
      if (this.phase.kind === "sending") {
        this.channel.push(this.phase.value);
        this.#sent();
      }
      return this.#deliver(consumer, value);
    }
    if (this.phase.kind === "sending") {
      const value = this.phase.value;
      this.#sent();
      return this.#deliver(consumer, value);
    }
    // Broken once the producer has ended (a receiver waits while its cleanup runs), and every time after.
    if (this.broken && this.phase.kind === "ended") return this.#fail(consumer, "BrokenResourceError");
    if (this.sendEndClosed) return this.#atEnd(consumer);
    this.receivers.push(consumer);
  }

  #deliver(consumer: Extract<ConsumerOp, { kind: "receive" | "loop" }>, value: number): void {
    if (consumer.kind === "receive") return this.#end(consumer.op, ok(value));
    consumer.values.push(value);
    if (consumer.values.length >= consumer.k) {
      this.#later.push(() => this.#close(consumer)); // break: the loop's return() closes the stream
    } else {
      this.#later.push(() => this.#ask(consumer));
    }
  }

  /** The channel has ended: the producer's error once, then the plain end. */
  #atEnd(consumer: Extract<ConsumerOp, { kind: "receive" | "loop" }>): void {
    if (this.failure !== null) {
      const failure = this.failure;
      this.failure = null;
      return this.#fail(consumer, failure);
    }
    if (consumer.kind === "loop") return this.#end(consumer.op, ok([...consumer.values]));
    this.#fail(consumer, "EndOfChannel");
  }

  #fail(consumer: ConsumerOp, error: string): void {
    this.#end(consumer.op, failed(error));
  }

  #end(op: number, outcome: Outcome): void {
    this.outcomes.set(op, outcome);
    this.pending.delete(op);
    this.deadlines.delete(op);
  }

  close(op: number): void {
    this.outcomes.set(op, PENDING);
    const closer: ConsumerOp = { kind: "close", op };
    this.pending.set(op, closer);
    this.#close(closer);
    this.#quiesce();
  }

  /** close(): cancels the producer, then waits for its end (even if the caller is cancelled). */
  #close(closer: Extract<ConsumerOp, { kind: "close" | "loop" }>): void {
    if (!this.closing) {
      this.closing = true;
      this.#cancelProducer();
    }
    this.closers.push(closer);
    if (this.phase.kind === "ended") this.#settleClosers();
  }

  #closed(closer: Extract<ConsumerOp, { kind: "close" | "loop" }>): void {
    const result = this.closeResult!;
    if (closer.kind === "close" || result.status === "error") this.#end(closer.op, result);
    else this.#end(closer.op, ok([...closer.values]));
  }

  /** The scope that called produce() is cancelled. */
  cancelProducerScope(): void {
    if (this.phase.kind !== "cleanup" && this.phase.kind !== "ended") this.broken = !this.closing;
    this.#cancelProducer();
    this.#quiesce();
  }

  /** A waiting consumer's scope is cancelled: a receive (or a loop's next()) leaves having taken nothing. */
  cancel(op: number): void {
    const i = this.receivers.findIndex((c) => c.op === op);
    if (i < 0) return; // not waiting in a receive: a close is not a checkpoint
    this.receivers.splice(i, 1);
    this.#end(op, failed("Cancelled"));
    this.#quiesce();
  }

  /** Time passes, one ms at a time: deadlines of consumers fire first (before any task runs), then the producer's sleeps end. */
  advance(): void {
    this.now++;
    for (const [op, deadline] of [...this.deadlines]) if (deadline <= this.now) this.cancel(op);
    const phase = this.phase;
    if (phase.kind === "computing" && phase.until <= this.now) this.#send(this.next);
    else if (phase.kind === "cleanup" && phase.until <= this.now) this.#ended(phase.why);
    this.#quiesce();
  }

  // ---------------------------------------------------------------- producer side

  /** Lets everything that can go on without time passing go on. */
  #quiesce(): void {
    for (;;) {
      if (this.#step()) continue;
      const work = this.#later.shift();
      if (work === undefined) return;
      work();
    }
  }

  /** One step of the producer, if it can take one. */
  #step(): boolean {
    const phase = this.phase;
    if (phase.kind === "request") {
      if (!this.#receiving) return false;
      if (phase.then === "send") this.#send(this.next);
      else this.#compute();
      return true;
    }
    if (phase.kind === "go") {
      this.#compute();
      return true;
    }
    return false;
  }

  #compute(): void {
    if (this.next >= (this.script.end === "forever" ? Infinity : this.script.total)) {
      return this.#finish(this.script.end === "throw" ? "throw" : "return");
    }
    const cost = costOf(this.script, this.next);
    if (cost > 0) this.phase = { kind: "computing", until: this.now + cost };
    else this.#send(this.next);
  }

  #send(value: number): void {
    this.produced = value + 1;
    const receiver = this.receivers.shift();
    if (receiver !== undefined) {
      this.#deliver(receiver, value);
      return this.#sent();
    }
    if (this.channel.length < this.channelMax) {
      this.channel.push(value);
      return this.#sent();
    }
    this.phase = { kind: "sending", value };
  }

  /** send(next) returned (with buffer 0, once the consumer asks for the value after it). */
  #sent(): void {
    this.next++;
    this.phase = this.lazy ? { kind: "request", then: "compute" } : { kind: "go" };
  }

  #cancelProducer(): void {
    const kind = this.phase.kind;
    if (kind === "request" || kind === "go" || kind === "computing" || kind === "sending") this.#finish("cancelled");
  }

  /** The producer function is leaving: its finally block runs (its cleanup may take time). */
  #finish(why: Why): void {
    this.finallyEntered++;
    if (this.script.cleanupCost > 0) this.phase = { kind: "cleanup", until: this.now + this.script.cleanupCost, why };
    else this.#ended(why);
  }

  /** The producer's task has ended: the channel ends, with its error if it failed; close() calls return. */
  #ended(why: Why): void {
    this.finallyDone++;
    this.phase = { kind: "ended" };
    this.sendEndClosed = true;
    if (why === "throw") this.failure = "Boom";
    for (const receiver of this.receivers.splice(0)) {
      // DESIGN: a cancelled producer is never seen as a Cancelled by a consumer in another task.
      // A stream closed before the producer ended, however it ended: its waiting consumers get ClosedResourceError.
      if (this.closing) this.#fail(receiver, "ClosedResourceError");
      else if (why === "cancelled") this.#fail(receiver, "BrokenResourceError");
      else this.#atEnd(receiver);
    }
    if (this.closing) this.#settleClosers();
  }

  /** Once the producer has ended, close() returns — or throws the producer's own error if no consumer has seen it. */
  #settleClosers(): void {
    this.closeResult ??= this.failure === null ? ok() : failed(this.failure);
    for (const closer of this.closers.splice(0)) this.#closed(closer);
  }

  get producerEnded(): boolean {
    return this.phase.kind === "ended";
  }
}

// ------------------------------------------------------------------- the real system

interface ProducerReal extends RealBase {
  stream: ProducerStream<number> | null;
  /** The scope that called produce(). */
  readonly scope: CancelScope;
  readonly log: ProducerLog;
  /** The values each consumer operation got, in order. */
  readonly got: Map<number, number[]>;
}

function compare(model: ProducerModel, real: ProducerReal): void {
  expect(real.recorder.snapshot(), "how every operation so far ended").toEqual(snapshotOf(model.outcomes));
  expect({ ...real.log }, "what the producer has done").toEqual({ produced: model.produced, finallyEntered: model.finallyEntered, finallyDone: model.finallyDone });
  // Not trusting the model: values come in order without gap or repeat, each consumer sees them in order,
  // the finally block runs at most once, and no consumer sees a Cancelled it did not cause.
  const all = [...real.got.values()].flat().sort((a, b) => a - b);
  expect(all, "values received: 0, 1, 2, … each once").toEqual(all.map((_, i) => i));
  for (const [op, values] of real.got) expect(values, `values of consumer op ${op} in order`).toEqual([...values].sort((a, b) => a - b));
  expect(real.log.finallyEntered).toBeLessThanOrEqual(1);
  const foreign = [...real.recorder.outcomes].filter(([, o]) => o.status === "error" && o.error === FOREIGN_CANCELLED);
  expect(foreign, "consumers that saw a Cancelled they did not cause").toEqual([]);
}

// ------------------------------------------------------------------- commands

type Command = Step<ProducerModel, ProducerReal>;

function step(label: string, check: (model: Readonly<ProducerModel>) => boolean, act: (model: ProducerModel, real: ProducerReal) => void): Command {
  return new Step(label, check, async (model, real) => {
    real.trace.push(label);
    act(model, real);
    await settle(real.trace);
    compare(model, real);
  });
}

const receiveCommand = timingArbitrary.map((timing) =>
  step(`receive()${timingLabel(timing)}`, (model) => model.mayReceive("receive"), (model, real) => {
    const op = model.id();
    model.receive(op, timing);
    const stream = real.stream!;
    const got: number[] = [];
    real.got.set(op, got);
    real.tg.spawn(() =>
      real.recorder.perform(op, timing, async () => {
        const value = await stream.receive();
        got.push(value);
        return value;
      }),
    );
  }),
);

/**
 * A for-await loop that breaks after `k` values — with buffer 0 only. With a
 * head start the producer is still running ahead when the loop breaks, and
 * which comes first, its next send or the break's close(), is not fixed by the
 * contract (nor, so, whether close() throws an error the producer reached in
 * that race). There the loop runs to the end instead (or until closed or
 * cancelled) — and only if it must block at some point: a producer that never
 * ends and computes every value instantly would keep it busy for ever.
 */
const loopCommand = fc.tuple(fc.integer({ min: 1, max: 4 }), timingArbitrary).map(([breakAfter, timing]) =>
  step(`for await, break after ${breakAfter} (if buffer 0)${timingLabel(timing)}`, (model) => model.mayReceive("loop") && model.loopEnds(), (model, real) => {
    const k = model.lazy ? breakAfter : Infinity;
    const op = model.id();
    model.loop(op, k, timing);
    const stream = real.stream!;
    const got: number[] = [];
    real.got.set(op, got);
    real.tg.spawn(() =>
      real.recorder.perform(op, timing, async () => {
        for await (const value of stream) {
          got.push(value);
          if (got.length >= k) break;
        }
        return got;
      }),
    );
  }),
);

const closeCommand = fc.constantFrom("close()" as const, "[Symbol.asyncDispose]()" as const).map((via) =>
  step(`stream.${via}`, (model) => model.mayClose(), (model, real) => {
    const op = model.id();
    model.close(op);
    const stream = real.stream!;
    real.tg.spawn(() =>
      real.recorder.perform(op, { kind: "plain" }, async () => {
        await (via === "close()" ? stream.close() : stream[Symbol.asyncDispose]());
      }),
    );
  }),
);

const cancelCommand = fc.nat({ max: 7 }).map((k) =>
  step(`cancel(consumer op k${k})`, (model) => model.waiting().length > 0, (model, real) => {
    const waiting = model.waiting();
    const op = waiting[pick(k, waiting.length)]!;
    model.cancel(op);
    real.recorder.cancel(op);
  }),
);

const advanceCommand = fc.integer({ min: 1, max: 3 }).map(
  (ms) =>
    new Step<ProducerModel, ProducerReal>(`time passes: ${ms}ms`, () => true, async (model, real) => {
      real.trace.push(`time passes: ${ms}ms`);
      for (let i = 0; i < ms; i++) {
        model.advance();
        real.clock.jump(1);
        await settle(real.trace);
        compare(model, real);
      }
    }),
);

const cancelScopeCommand = fc.constant(
  step("cancel the scope that called produce()", () => true, (model, real) => {
    model.cancelProducerScope();
    real.scope.cancel();
  }),
);

const commands = fc.commands(
  [
    fc.oneof(
      { weight: 6, arbitrary: receiveCommand },
      { weight: 2, arbitrary: loopCommand },
      { weight: 1, arbitrary: closeCommand },
      { weight: 3, arbitrary: cancelCommand },
      { weight: 3, arbitrary: advanceCommand },
      { weight: 1, arbitrary: cancelScopeCommand },
    ),
  ],
  { maxCommands: 25, size: "medium" },
);

/** Cancels waiting consumers, closes the stream, lets cleanup finish; then the producer has ended once and nothing waits. */
async function teardown(model: ProducerModel, real: ProducerReal): Promise<void> {
  for (const op of model.waiting()) {
    model.cancel(op);
    real.recorder.cancel(op);
  }
  await settle(real.trace);
  compare(model, real);
  if (!model.closing) {
    const op = model.id();
    model.close(op);
    const stream = real.stream!;
    real.tg.spawn(() => real.recorder.perform(op, { kind: "plain" }, () => stream.close()));
    await settle(real.trace);
    compare(model, real);
  }
  for (let ms = 0; !model.producerEnded && ms < 10; ms++) {
    model.advance();
    real.clock.jump(1);
    await settle(real.trace);
    compare(model, real);
  }
  real.scope.cancel(); // the task that called produce() leaves
  await settle(real.trace);
  compare(model, real);
  expect(model.producerEnded, "the model's producer has ended").toBe(true);
  expect(model.waiting(), "the model leaves nothing waiting").toEqual([]);
  expect([...real.recorder.outcomes].filter(([, o]) => o.status === "pending"), "operations still parked").toEqual([]);
  expect(real.log, "the producer's finally block ran exactly once").toMatchObject({ finallyEntered: 1, finallyDone: 1 });
}

function makeReal(script: Script): (base: RealBase) => Promise<ProducerReal> {
  return async (base) => {
    const real: ProducerReal = {
      ...base,
      stream: null,
      scope: new CancelScope(),
      log: { produced: 0, finallyEntered: 0, finallyDone: 0 },
      got: new Map(),
    };
    real.recorder.outcomes.set(PRODUCE_OP, PENDING);
    real.tg.spawn(
      () =>
        real.scope.run(async () => {
          try {
            real.stream = await produce(producerOf(script, real.log), { buffer: script.buffer, name: "scripted" });
            real.recorder.outcomes.set(PRODUCE_OP, ok());
          } catch (error) {
            real.recorder.outcomes.set(PRODUCE_OP, failed(errorName(error, null)));
            return;
          }
          await sleepForever();
        }),
      { name: "owner" },
    );
    await settle(base.trace);
    return real;
  };
}

describe("producer model", () => {
  it(
    "values arrive in order, once, lazily; consumers see ClosedResourceError/EndOfChannel/the producer's error, never its Cancelled; finally runs once; nothing is left parked",
    async () => {
      await assertProperty(
        fc.asyncProperty(scriptArbitrary, commands, async (script, cmds) => {
          await runModel(() => new ProducerModel(script), makeReal(script), cmds, teardown);
        }),
        { seed: 0x11_1005, numRuns: 200 },
      );
    },
    PROPERTY_TIMEOUT,
  );

  it(
    "an error during setup is thrown by produce() as it is, after the finally block ran once",
    async () => {
      await assertProperty(
        fc.asyncProperty(fc.boolean(), fc.constantFrom(0, 1, 2), fc.constantFrom(0, 1), async (atOnce, buffer, cleanupCost) => {
          const log: ProducerLog = { produced: 0, finallyEntered: 0, finallyDone: 0 };
          const boom = new Boom("setup failed");
          let thrown: unknown = "nothing";
          const clock = new MockClock({ autojumpThreshold: 0 });
          await withinRealTime(
            run(
              async () => {
                try {
                  await produce<number>(
                    async () => {
                      try {
                        if (!atOnce) await sleep(1); // setup that takes time
                        throw boom;
                      } finally {
                        log.finallyEntered++;
                        if (cleanupCost > 0) await new CancelScope({ shield: true }).run(() => sleep(cleanupCost));
                        log.finallyDone++;
                      }
                    },
                    { buffer },
                  );
                } catch (error) {
                  thrown = error;
                }
              },
              { clock },
            ),
            () => new Error("the run did not end"),
          );
          expect(thrown).toBe(boom);
          expect(log).toMatchObject({ finallyEntered: 1, finallyDone: 1 });
        }),
        { seed: 0x11_1006, numRuns: 12 },
      );
    },
    PROPERTY_TIMEOUT,
  );
});
