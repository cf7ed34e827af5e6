/**
 * A virtual clock for tests.
 *
 * @module
 */

import type { Clock, ClockAlarm, RunHooks } from "@quartet/core/lowlevel";

/**
 * Options of {@link MockClock}.
 *
 * @example
 * ```ts
 * import { run, sleep } from "@quartet/core";
 * import { MockClock } from "@quartet/testing";
 *
 * // Time stands still until every task has been blocked for 10 real ms, then jumps to the next deadline:
 * await run(() => sleep(60_000), { clock: new MockClock({ autojumpThreshold: 10 }) }); // about 10 real ms
 * // Time runs 100 times as fast as real time:
 * await run(() => sleep(60_000), { clock: new MockClock({ rate: 100 }) }); // about 600 real ms
 * ```
 */
export interface MockClockOptions {
  /** Virtual milliseconds that pass per real millisecond. Default 0: time moves only by `jump()` and autojump. */
  rate?: number;
  /**
   * Real milliseconds that every task of the run must have been blocked before
   * virtual time jumps to the next deadline. 0 jumps as soon as every task is
   * blocked. Default `Infinity`: no autojump.
   */
  autojumpThreshold?: number;
}

interface Alarm {
  readonly deadline: number;
  readonly wake: () => void;
}

/**
 * A {@link Clock} whose time is under the test's control, for
 * `run(main, { clock })`. It starts at 0 and stands still (`rate` 0) unless the
 * test moves it with `jump(ms)`, or autojump moves it: with
 * `autojumpThreshold: 0`, as soon as every task of the run is blocked, time jumps
 * straight to the next deadline. So `sleep(3_600_000)` finishes at once, while
 * wake-ups and deadlines happen in exactly the order they would on a real clock.
 *
 * A task waiting on a foreign promise (a real timer, a socket) is not blocked in
 * a Quartet operation, so it holds autojump back until it is; a task in
 * `abortable()` counts as blocked, and a threshold above 0 gives such real work
 * that much real time to finish before virtual time moves on.
 *
 * @example
 * ```ts
 * import { run, sleep, now } from "@quartet/core";
 * import { MockClock } from "@quartet/testing";
 *
 * await run(async () => {
 *   await sleep(3_600_000); // an hour, at once
 *   console.log(now()); // 3600000
 * }, { clock: new MockClock({ autojumpThreshold: 0 }) });
 * ```
 */
export class MockClock implements Clock {
  #virtualBase = 0;
  #realBase = performance.now();
  #rate = 0;
  #autojumpThreshold = Infinity;
  readonly #alarms = new Set<Alarm>();
  #hooks: RunHooks | null = null;
  #withdrawIdle: (() => void) | null = null;
  #realTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(options?: MockClockOptions) {
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw new TypeError(`MockClock options must be an object if given; got ${String(options)}`);
    }
    if (options?.rate !== undefined) this.rate = options.rate;
    if (options?.autojumpThreshold !== undefined) this.autojumpThreshold = options.autojumpThreshold;
  }

  /** The current virtual time in milliseconds. */
  now(): number {
    return this.#rate === 0 ? this.#virtualBase : this.#virtualBase + (performance.now() - this.#realBase) * this.#rate;
  }

  /** Virtual milliseconds per real millisecond; 0 (the default) freezes time. Settable; must be finite and not negative. */
  get rate(): number {
    return this.#rate;
  }

  set rate(rate: number) {
    requireNonNegative(rate, "MockClock rate", false);
    this.#virtualBase = this.now();
    this.#realBase = performance.now();
    this.#rate = rate;
    this.#armRealTimer();
  }

  /** Real milliseconds of idleness before virtual time jumps to the next deadline; `Infinity` turns autojump off. Settable. */
  get autojumpThreshold(): number {
    return this.#autojumpThreshold;
  }

  set autojumpThreshold(threshold: number) {
    requireNonNegative(threshold, "MockClock autojumpThreshold", true);
    this.#autojumpThreshold = threshold;
    this.#withdrawIdle?.();
    this.#withdrawIdle = null;
    this.#requestAutojump();
  }

  /** Moves virtual time forward by `ms` and fires the deadlines that have passed. */
  jump(ms: number): void {
    requireNonNegative(ms, "MockClock jump", false);
    this.#virtualBase += ms;
    this.#fireDue();
  }

  /** @see Clock.wakeAt */
  wakeAt(deadline: number, wake: () => void): ClockAlarm {
    const alarm: Alarm = { deadline, wake };
    this.#alarms.add(alarm);
    if (deadline <= this.now()) queueMicrotask(() => this.#fireDue());
    this.#armRealTimer();
    this.#requestAutojump();
    return {
      cancel: () => {
        this.#alarms.delete(alarm);
        if (this.#alarms.size === 0) {
          this.#withdrawIdle?.();
          this.#withdrawIdle = null;
        }
        this.#armRealTimer();
      },
    };
  }

  /** @see Clock.attach */
  attach(hooks: RunHooks): void {
    if (this.#hooks !== null) throw new Error("this MockClock already drives a run; give each concurrent run a clock of its own");
    this.#hooks = hooks;
    this.#requestAutojump();
  }

  /** @see Clock.detach */
  detach(hooks: RunHooks): void {
    if (this.#hooks !== hooks) return;
    this.#withdrawIdle?.();
    this.#withdrawIdle = null;
    this.#hooks = null;
  }

  #fireDue(): void {
    const now = this.now();
    const due = [...this.#alarms].filter((alarm) => alarm.deadline <= now).sort((a, b) => a.deadline - b.deadline);
    for (const alarm of due) {
      if (!this.#alarms.delete(alarm)) continue; // cancelled by an earlier wake-up
      alarm.wake();
    }
    this.#armRealTimer();
  }

  #nextDeadline(): number {
    let next = Infinity;
    for (const alarm of this.#alarms) if (alarm.deadline < next) next = alarm.deadline;
    return next;
  }

  /** With a running clock, a real timer stands in for the earliest alarm. */
  #armRealTimer(): void {
    if (this.#realTimer !== null) clearTimeout(this.#realTimer);
    this.#realTimer = null;
    const next = this.#nextDeadline();
    if (this.#rate === 0 || next === Infinity) return;
    const realDelay = Math.max(0, Math.ceil((next - this.now()) / this.#rate));
    this.#realTimer = setTimeout(() => {
      this.#realTimer = null;
      this.#fireDue();
    }, Math.min(realDelay, 2 ** 31 - 1));
  }

  #requestAutojump(): void {
    if (this.#hooks === null || this.#withdrawIdle !== null || this.#alarms.size === 0) return;
    if (this.#autojumpThreshold === Infinity) return;
    this.#withdrawIdle = this.#hooks.whenIdle(this.#autojump, this.#autojumpThreshold);
  }

  readonly #autojump = (): void => {
    this.#withdrawIdle = null;
    const next = this.#nextDeadline();
    if (next === Infinity) return;
    const now = this.now();
    if (next > now) this.#virtualBase += next - now;
    this.#fireDue();
    this.#requestAutojump();
  };
}

function requireNonNegative(value: unknown, what: string, infinityAllowed: boolean): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`${what} must be a number; got ${typeof value}`);
  if (Number.isNaN(value) || value < 0 || (!infinityAllowed && value === Infinity)) {
    throw new RangeError(`${what} must be a ${infinityAllowed ? "" : "finite, "}non-negative number; got ${value}`);
  }
}
