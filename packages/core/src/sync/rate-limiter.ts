/**
 * Rate limiters: a token bucket on the runtime clock.
 *
 * @module
 */

import { current } from "../core/context.js";
import type { DeadlineEntry } from "../core/deadline-heap.js";
import { WouldBlock } from "../core/errors.js";
import type { Waiter } from "../core/park.js";
import { ParkingLot } from "../core/parking-lot.js";
import type { Runtime } from "../core/runtime.js";
import { describe, nameOption, type NameOptions } from "../core/validate.js";

/**
 * Options of the `RateLimiter` constructor.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "@quartet/core";
 *
 * // 100 requests a minute, at most 10 at once after a quiet spell.
 * const api = new RateLimiter(100, { interval: 60_000, burst: 10, name: "api" });
 * ```
 */
export interface RateLimiterOptions extends NameOptions {
  /** The period, in milliseconds, over which `rate` tokens are added: a positive finite number. Default 1000. */
  interval?: number;
  /**
   * The most tokens the bucket holds, which is the most that can be taken at
   * once after a quiet spell: a finite number of at least 1 (a fraction is
   * allowed; requests are whole numbers of tokens). Default: `rate`, but at
   * least 1. The bucket starts full.
   */
  burst?: number;
}

/**
 * What {@link RateLimiter.statistics} reports.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "@quartet/core";
 *
 * const limiter = new RateLimiter(5);
 * limiter.acquireNowait(2);
 * const { tokens, burst } = limiter.statistics();
 * console.log(`${tokens} of ${burst} tokens left`); // "3 of 5 tokens left" (a little more as time passes)
 * ```
 */
export interface RateLimiterStatistics {
  /** Tokens in the bucket now; a fraction while one is refilling. */
  readonly tokens: number;
  /** Tokens added per `interval`. */
  readonly rate: number;
  /** The refill period, in milliseconds. */
  readonly interval: number;
  /** The most tokens the bucket holds. */
  readonly burst: number;
  /** Tasks blocked in `acquire()`. */
  readonly tasksWaiting: number;
}

/**
 * Limits how often something happens: a token bucket on the runtime clock.
 * `rate` tokens are added per `interval` milliseconds, continuously, up to
 * `burst` tokens; `acquire(n)` takes `n` tokens, waiting until the bucket holds
 * them. The bucket starts full, so the first `burst` tokens are taken at once;
 * after that, requests are spaced at `interval / rate` milliseconds per token.
 * Over any stretch of time `d`, at most `burst + rate * d / interval` tokens are
 * taken.
 *
 * Fair: tasks are served in the order they asked. A task that asks while
 * others wait queues behind them even if the bucket holds enough for it, so a
 * large request at the front is not starved by small ones behind it. A task
 * cancelled while waiting takes nothing, and the task behind it moves up.
 *
 * Time is the runtime's clock (`now()`), so under `MockClock` a limiter takes
 * no real time; outside any `run()` it is the system clock. The limiter has no
 * timer or task of its own: the first waiting task waits for a deadline, like a
 * sleeper, and the others wait in line behind it.
 *
 * @example
 * ```ts
 * import { RateLimiter, taskGroup } from "@quartet/core";
 *
 * const limiter = new RateLimiter(10); // 10 a second, 10 at once
 * await taskGroup(async (tg) => {
 *   for (let i = 0; i < 50; i++) {
 *     tg.spawn(async () => {
 *       await limiter.acquire(); // the first 10 at once, then one every 100 ms
 *       // ... call the API
 *     });
 *   }
 * });
 * ```
 */
export class RateLimiter {
  readonly #rate: number;
  readonly #interval: number;
  readonly #burst: number;
  /** Milliseconds it takes to add one token: `interval / rate`. */
  readonly #spacing: number;
  /** Milliseconds it takes to fill the empty bucket: `burst * spacing`. */
  readonly #depth: number;
  /**
   * The bucket, as one time (the "theoretical arrival time" of GCRA): when it
   * will be full again if nobody takes tokens. At time `t` it holds
   * `burst - max(0, fullAt - t) / spacing` tokens; `-Infinity` is full.
   * Invariant (on one clock): `fullAt <= now + depth`, the bucket never holds
   * less than nothing.
   */
  #fullAt = -Infinity;
  /**
   * The tasks waiting, each parked with the number of tokens it asked for.
   * Invariant: whenever it is not empty, `#alarm` is in the deadline heap of the
   * first waiter's runtime, for the time its tokens will have accumulated, and
   * `#timed` is that waiter.
   */
  readonly #lot: ParkingLot;
  readonly #alarm: DeadlineEntry = { deadline: Infinity, heapIndex: -1, heapSeq: 0, fire: () => this.#serve() };
  #alarmRuntime: Runtime | null = null;
  #timed: Waiter | null = null;

  /**
   * Makes a limiter that adds `rate` tokens per `interval` (default 1000 ms) to
   * a bucket of `burst` tokens (default `rate`, but at least 1), which starts
   * full. `rate` is a positive finite number, and may be a fraction.
   *
   * @example
   * ```ts
   * import { RateLimiter } from "@quartet/core";
   *
   * const perSecond = new RateLimiter(5); // 5 a second, up to 5 at once
   * const smooth = new RateLimiter(5, { burst: 1 }); // one every 200 ms, never two at once
   * const hourly = new RateLimiter(1000, { interval: 3_600_000, burst: 50 });
   * ```
   */
  constructor(rate: number, options?: RateLimiterOptions) {
    if (typeof rate !== "number") throw new TypeError(`RateLimiter rate must be a number; got ${describe(rate)}`);
    if (!(Number.isFinite(rate) && rate > 0)) {
      throw new RangeError(`RateLimiter rate must be a positive finite number (tokens per interval); got ${rate}`);
    }
    const name = nameOption(options, "RateLimiter");
    const interval = options?.interval === undefined ? 1000 : options.interval;
    if (typeof interval !== "number") throw new TypeError(`RateLimiter interval must be a number of milliseconds; got ${describe(interval)}`);
    if (!(Number.isFinite(interval) && interval > 0)) {
      throw new RangeError(`RateLimiter interval must be a positive finite number of milliseconds; got ${interval}`);
    }
    const burst = options?.burst === undefined ? Math.max(rate, 1) : options.burst;
    if (typeof burst !== "number") throw new TypeError(`RateLimiter burst must be a number; got ${describe(burst)}`);
    if (!(Number.isFinite(burst) && burst >= 1)) {
      throw new RangeError(`RateLimiter burst must be a finite number of at least 1 (the most tokens the bucket holds); got ${burst}`);
    }
    const spacing = interval / rate;
    if (!(Number.isFinite(burst * spacing) && spacing > 0)) {
      throw new RangeError(`RateLimiter interval / rate must give a usable time per token; got ${interval} / ${rate}`);
    }
    this.#rate = rate;
    this.#interval = interval;
    this.#burst = burst;
    this.#spacing = spacing;
    this.#depth = burst * spacing;
    this.#lot = new ParkingLot({ operation: "acquire", object: "RateLimiter", name }, (waiter) =>
      waiter === this.#lot.first ? this.#dueAt(waiter.value as number) : undefined,
    );
  }

  /**
   * Takes `tokens` tokens (a whole number from 1 to `burst`, default 1),
   * waiting until the bucket holds them and every task that asked earlier has
   * been served. A checkpoint: in a cancelled scope it throws `Cancelled`
   * without taking anything, and a task cancelled while waiting leaves the
   * queue having taken nothing. Tokens are not given back: they come back by
   * themselves, with time.
   *
   * @example
   * ```ts
   * import { RateLimiter } from "@quartet/core";
   *
   * const bandwidth = new RateLimiter(64 * 1024, { burst: 16 * 1024 }); // 64 KiB a second
   * const chunk = new Uint8Array(4096);
   * await bandwidth.acquire(chunk.length); // one token a byte
   * ```
   */
  async acquire(tokens = 1): Promise<void> {
    this.#checkTokens(tokens, "acquire");
    const context = current();
    const node = context.node;
    context.task.checkpoints++;
    if (node.effective !== null) throw node.effective;
    const runtime = node.runtime!;
    if (this.#lot.size === 0 && this.#tryTake(tokens, runtime.now())) {
      const pause = runtime.yieldIfDue();
      if (pause) await pause;
      return;
    }
    const waiter = this.#lot.park(context, tokens, undefined, this.#onAbort);
    if (waiter === this.#lot.first) this.#arm(waiter, runtime);
    return waiter.promise;
  }

  /**
   * Takes `tokens` tokens (default 1) if the bucket holds them now and no task
   * is waiting; throws `WouldBlock` otherwise (a newcomer does not go before
   * tasks that wait).
   *
   * @example
   * ```ts
   * import { RateLimiter, WouldBlock } from "@quartet/core";
   *
   * const logs = new RateLimiter(100, { interval: 60_000 });
   * try {
   *   logs.acquireNowait();
   *   console.log("disk is full");
   * } catch (err) {
   *   if (!(err instanceof WouldBlock)) throw err; // over the limit: drop the line
   * }
   * ```
   */
  acquireNowait(tokens = 1): void {
    this.#checkTokens(tokens, "acquireNowait");
    const waiting = this.#lot.size;
    if (waiting > 0) {
      throw new WouldBlock(`RateLimiter.acquireNowait() would block: ${waiting} ${waiting === 1 ? "task waits" : "tasks wait"} ahead of it`);
    }
    const now = current().node.runtime!.now();
    if (!this.#tryTake(tokens, now)) {
      const held = Math.floor(this.#tokensAt(now) * 1000) / 1000;
      throw new WouldBlock(`RateLimiter.acquireNowait() would block: it asked for ${tokens} ${tokens === 1 ? "token" : "tokens"}, and the bucket holds ${held}`);
    }
  }

  /**
   * The bucket's settings, how many tokens it holds now and how many tasks
   * wait, as a frozen record.
   *
   * @example
   * ```ts
   * import { RateLimiter } from "@quartet/core";
   *
   * console.log(new RateLimiter(5).statistics());
   * // { tokens: 5, rate: 5, interval: 1000, burst: 5, tasksWaiting: 0 }
   * ```
   */
  statistics(): RateLimiterStatistics {
    return Object.freeze({
      tokens: this.#tokensAt(current().node.runtime!.now()),
      rate: this.#rate,
      interval: this.#interval,
      burst: this.#burst,
      tasksWaiting: this.#lot.size,
    });
  }

  // ------------------------------------------------------------ the bucket

  #tokensAt(now: number): number {
    return Math.max(0, this.#burst - Math.max(0, this.#fullAt - now) / this.#spacing);
  }

  /** The earliest time at which the bucket holds `tokens` (in the past if it holds them now). */
  #dueAt(tokens: number): number {
    return this.#fullAt + tokens * this.#spacing - this.#depth;
  }

  /** Takes `tokens` if the bucket holds them at `now`; returns whether it did. */
  #tryTake(tokens: number, now: number): boolean {
    // Only a limiter shared between runs on different clocks can see its bucket fuller than
    // empty in the past of the clock it is read by: count it empty, rather than waiting for
    // the other clock's future.
    if (this.#fullAt > now + this.#depth) this.#fullAt = now + this.#depth;
    // The same expression as the alarm's deadline, so an alarm that fired always finds its tokens.
    if (this.#dueAt(tokens) > now) return false;
    this.#fullAt = Math.max(this.#fullAt, now) + tokens * this.#spacing;
    return true;
  }

  // ----------------------------------------------------------- the queue

  /** Serves the waiting tasks whose tokens are there, first come first served; times the next one. */
  #serve(): void {
    this.#disarm();
    for (let first = this.#lot.first; first !== null; first = this.#lot.first) {
      const runtime = first.task.node.runtime!;
      if (!this.#tryTake(first.value as number, runtime.now())) return this.#arm(first, runtime);
      this.#lot.shift();
      first.wake();
    }
  }

  /** Sets the alarm for `first`, the first waiter: when its tokens will be there (or now, if they are). */
  #arm(first: Waiter, runtime: Runtime): void {
    this.#alarm.deadline = Math.max(this.#dueAt(first.value as number), runtime.now());
    this.#alarmRuntime = runtime;
    this.#timed = first;
    runtime.addDeadline(this.#alarm);
  }

  #disarm(): void {
    this.#alarmRuntime?.removeDeadline(this.#alarm);
    this.#alarmRuntime = null;
    this.#timed = null;
  }

  /**
   * A waiter was cancelled (it has left the lot). If it was the first, the one
   * behind it moves up: it is timed afresh, for now if its tokens are already
   * there, and served when the alarm fires. Not served from here: the same
   * cancellation may be about to abort it too, and it must not take tokens then.
   */
  readonly #onAbort = (waiter: Waiter): void => {
    if (waiter !== this.#timed) return;
    this.#disarm();
    const first = this.#lot.first;
    if (first !== null) this.#arm(first, first.task.node.runtime!);
  };

  #checkTokens(tokens: unknown, method: string): asserts tokens is number {
    if (typeof tokens !== "number") throw new TypeError(`RateLimiter.${method}() tokens must be a number; got ${describe(tokens)}`);
    if (!Number.isSafeInteger(tokens) || tokens < 1) {
      throw new RangeError(`RateLimiter.${method}() tokens must be a positive integer; got ${tokens}`);
    }
    if (tokens > this.#burst) {
      throw new RangeError(`RateLimiter.${method}(${tokens}) asks for more tokens than the burst of ${this.#burst}: the bucket never holds that many, so it could never be served`);
    }
  }
}
