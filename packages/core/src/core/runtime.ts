/**
 * The runtime: one clock, one deadline heap, one host alarm.
 *
 * Every `run()` has a runtime of its own; code outside any `run()` shares an
 * implicit runtime on the system clock. All deadlines of a runtime (cancel
 * scopes with a deadline, sleepers) live in its {@link DeadlineHeap}, and the
 * runtime keeps at most one alarm armed on its clock, for the earliest of them.
 *
 * The alarm is re-armed only when a deadline earlier than the armed one arrives.
 * When the heap empties, the alarm is left armed but unreferenced (if the clock
 * supports that), so a stream of short-lived scopes costs no host timer each and
 * an idle runtime does not keep the process alive. A stale alarm that fires finds
 * nothing due and re-arms for the earliest remaining deadline.
 *
 * @module
 */

import { DeadlineHeap, type DeadlineEntry } from "./deadline-heap.js";
import { CallSite } from "./debug.js";
import { instrumentBlocked, instrumentExited, instrumentSpawned, instrumentUnblocked, instruments, type Thrown } from "./instruments.js";
import { blockRecords, type WaitTarget } from "./park.js";
import type { Task } from "./task.js";
import type { TaskTree } from "./task-tree.js";
import type { CancelNode } from "./cancel-node.js";

/**
 * The source of time for a runtime. Times are milliseconds; `now()` never goes
 * backwards. Pass one to `run(main, { clock })`; the default reads
 * `performance.now()` and wakes with `setTimeout`.
 *
 * @example
 * ```ts
 * import { run, sleep, type Clock } from "@quartet/core";
 * import { systemClock } from "@quartet/core/lowlevel";
 *
 * // Time ten times as fast as real time: sleep(1000) takes 100 real ms.
 * const fast: Clock = {
 *   now: () => systemClock.now() * 10,
 *   wakeAt: (deadline, wake) => systemClock.wakeAt(deadline / 10, wake),
 * };
 * await run(() => sleep(1000), { clock: fast });
 * ```
 */
export interface Clock {
  /** The current time in milliseconds. Monotonic. */
  now(): number;
  /**
   * Calls `wake` once, as soon as possible after `now()` has reached `deadline`
   * (calling it early is allowed: the runtime checks the time and asks again).
   * Each runtime keeps at most one alarm pending; a clock shared by several
   * runtimes (as `systemClock` is, by every `run()` and by code outside any run)
   * may have one pending for each.
   */
  wakeAt(deadline: number, wake: () => void): ClockAlarm;
  /** Optional: called when a `run()` starts on this clock, with hooks into that run. */
  attach?(hooks: RunHooks): void;
  /** Optional: called when that `run()` has returned. */
  detach?(hooks: RunHooks): void;
}

/**
 * What a run offers the clock it runs on (see {@link Clock.attach}): a way to
 * learn when every task is blocked, which virtual clocks use to jump ahead.
 *
 * @example
 * ```ts
 * import { run, sleep, type Clock } from "@quartet/core";
 * import { systemClock, type RunHooks } from "@quartet/core/lowlevel";
 *
 * // The system clock, saying when the run has nothing left to do but wait.
 * const clock: Clock = {
 *   now: systemClock.now,
 *   wakeAt: systemClock.wakeAt,
 *   attach(hooks: RunHooks) {
 *     hooks.whenIdle(() => console.log("every task is blocked"));
 *   },
 * };
 * await run(() => sleep(100), { clock }); // prints it once main is asleep
 * ```
 */
export interface RunHooks {
  /**
   * Calls `callback` once every task of the run is blocked in a Quartet
   * operation and has stayed so, with the event loop turning, for `cushion`
   * real milliseconds (0: as soon as that is seen after the pending promise
   * callbacks and I/O have run). Returns a function that withdraws the request.
   */
  whenIdle(callback: () => void, cushion?: number): () => void;
  /** A snapshot of the run's tasks (see `taskTree()` in `@quartet/core/lowlevel`), from anywhere, also outside the run's own code. */
  taskTree(): TaskTree;
}

/**
 * A pending wake-up requested with {@link Clock.wakeAt}.
 *
 * @example
 * ```ts
 * import { run, sleep, type Clock, type ClockAlarm } from "@quartet/core";
 *
 * const clock: Clock = {
 *   now: () => performance.now(),
 *   wakeAt(deadline, wake): ClockAlarm {
 *     const delay = Math.min(Math.max(deadline - performance.now(), 0), 2 ** 31 - 1); // waking early is allowed
 *     const timer = setTimeout(wake, delay);
 *     // unref(): an alarm that nothing waits on must not keep the process alive
 *     return { cancel: () => clearTimeout(timer), unref: () => void timer.unref(), ref: () => void timer.ref() };
 *   },
 * };
 * await run(() => sleep(100), { clock });
 * ```
 */
export interface ClockAlarm {
  /** Withdraws the wake-up; `wake` will not be called. */
  cancel(): void;
  /** Optional: marks the alarm as one nothing waits on, so it must not keep the process alive (like Node's `timer.unref()`). */
  unref?(): void;
  /** Optional: undoes `unref()`. */
  ref?(): void;
}

/** setTimeout cannot wait longer than this; longer waits are re-armed when the alarm fires. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * The default clock: `performance.now()` and Node's timers.
 *
 * @example
 * ```ts
 * import { now, run, type Clock } from "@quartet/core";
 * import { systemClock } from "@quartet/core/lowlevel";
 *
 * // The system clock, shifted so that the run starts at time 0.
 * const origin = systemClock.now();
 * const clock: Clock = {
 *   now: () => systemClock.now() - origin,
 *   wakeAt: (deadline, wake) => systemClock.wakeAt(deadline + origin, wake),
 * };
 * await run(() => console.log(now()), { clock }); // a small number: ms since origin
 * ```
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  wakeAt(deadline, wake) {
    const delay = Math.min(Math.max(Math.ceil(deadline - performance.now()), 0), MAX_TIMER_DELAY);
    const timer = setTimeout(wake, delay);
    return {
      cancel: () => clearTimeout(timer),
      unref: () => void timer.unref(),
      ref: () => void timer.ref(),
    };
  },
};

/** How many microtask-only schedule points may pass before one yields to the event loop. */
const SCHEDULE_POINTS_PER_MACROTASK = 1024;

interface IdleRequest {
  readonly callback: () => void;
  readonly cushion: number;
  /** The state generation the cushion timer was armed for, or -1. */
  generation: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Whether runs record debugging information unless told otherwise: `QUARTET_DEBUG=1`. */
export const debugByDefault: boolean = typeof process !== "undefined" && process.env?.QUARTET_DEBUG === "1";

export class Runtime {
  readonly clock: Clock;
  /**
   * Debugging mode: blocked operations record when and where (the user's call
   * site) they blocked, and cancellations record where `cancel()` was called.
   */
  debug = debugByDefault;
  /** The root of the runtime's cancel tree (set by its `attachRoot`). */
  root: CancelNode | null = null;
  readonly heap = new DeadlineHeap();
  /** True once the `run()` that owns this runtime has returned. The implicit runtime never closes. */
  closed = false;
  /** Counted tasks that have been spawned or started (or are a run's main) and have not finished. */
  tasksLiving = 0;
  /** Counted tasks blocked in at least one Quartet operation. The run is idle when this equals `tasksLiving`. */
  tasksBlocked = 0;

  /**
   * Work the run started that no task waits for: the producers of streams not yet
   * closed. `run()` closes them (cancels them and waits for their cleanup) before
   * it returns, so nothing it started is left parked.
   */
  readonly leftovers = new Set<{ close(): Promise<void> }>();

  #alarm: ClockAlarm | null = null;
  #alarmAt = Infinity;
  #alarmReferenced = false;
  #unrefScheduled = false;
  #schedulePointsLeft = SCHEDULE_POINTS_PER_MACROTASK;
  /** Bumped at every change of the task counts, so an idle spell can be told from a later one. */
  #generation = 0;
  #idleRequests: Set<IdleRequest> | null = null;
  #idleCheckScheduled = false;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  now(): number {
    return this.clock.now();
  }

  // ---------------------------------------------------------------- deadlines

  addDeadline(entry: DeadlineEntry): void {
    this.heap.push(entry);
    this.#arm();
  }

  removeDeadline(entry: DeadlineEntry): void {
    if (entry.heapIndex < 0) return;
    this.heap.remove(entry);
    if (this.heap.size === 0) this.#idle();
  }

  /** Call after changing `entry.deadline`; `entry` may or may not be in the heap. */
  moveDeadline(entry: DeadlineEntry): void {
    if (entry.heapIndex >= 0) {
      this.heap.update(entry);
      this.#arm();
    } else {
      this.addDeadline(entry);
    }
  }

  /** Makes sure an alarm is pending for the earliest deadline (no-op if the armed one is early enough). */
  #arm(): void {
    const first = this.heap.peek();
    if (first === undefined) return this.#idle();
    if (first.deadline < this.#alarmAt) {
      this.#alarm?.cancel();
      this.#alarmAt = first.deadline;
      this.#alarmReferenced = true;
      this.#alarm = this.clock.wakeAt(first.deadline, this.#onAlarm);
    } else if (!this.#alarmReferenced) {
      this.#alarmReferenced = true;
      this.#alarm!.ref?.();
    }
  }

  /**
   * Nothing is due any more: let the alarm lapse without holding the process
   * open. The unref waits for the event loop's next turn, so that a stream of
   * short-lived scopes (each adding and removing a deadline) does not ref and
   * unref the host timer every time.
   */
  #idle(): void {
    const alarm = this.#alarm;
    if (alarm === null || !this.#alarmReferenced) return;
    if (alarm.unref) {
      if (!this.#unrefScheduled) {
        this.#unrefScheduled = true;
        setImmediate(this.#unrefIfIdle);
      }
    } else {
      alarm.cancel();
      this.#alarm = null;
      this.#alarmAt = Infinity;
    }
  }

  readonly #unrefIfIdle = (): void => {
    this.#unrefScheduled = false;
    const alarm = this.#alarm;
    if (alarm !== null && this.#alarmReferenced && this.heap.size === 0) {
      alarm.unref!();
      this.#alarmReferenced = false;
    }
  };

  readonly #onAlarm = (): void => {
    this.#alarm = null;
    this.#alarmAt = Infinity;
    this.#fireDue();
    this.#arm();
  };

  /** Fires every entry whose deadline has passed, earliest first. */
  #fireDue(): void {
    const heap = this.heap;
    const now = this.clock.now();
    for (let first = heap.peek(); first !== undefined && first.deadline <= now; first = heap.peek()) {
      heap.remove(first);
      first.fire();
    }
  }

  /**
   * Fires the deadlines that have passed without waiting for the alarm: a task
   * busy computing between checkpoints never lets the host timer run, so
   * checkpoints look here. Costs a heap peek, and a clock read only when some
   * deadline is pending.
   */
  pollDeadlines(): void {
    const first = this.heap.peek();
    if (first === undefined || first.deadline > this.clock.now()) return;
    this.#fireDue();
    this.#arm();
  }

  /** Withdraws the alarm; called when the owning `run()` returns. */
  close(): void {
    this.closed = true;
    this.#alarm?.cancel();
    this.#alarm = null;
    this.#alarmAt = Infinity;
  }

  // --------------------------------------------------------- task accounting

  /** `task` was created (by `parent`'s code, if given). */
  /** `task` was created by the code of `parent`, to join the task group of `group` (by `via`), if any. */
  taskStarted(task: Task, parent?: Task, group?: CancelNode, via?: "spawn" | "start"): void {
    if (!task.counted) return;
    this.tasksLiving++;
    this.#changed();
    if (instruments !== null) instrumentSpawned(task, parent, group, via);
  }

  /** `task` has finished: it threw `thrown.error` if `thrown` is given. */
  taskEnded(task: Task, thrown?: Thrown): void {
    if (!task.counted) return;
    this.tasksLiving--;
    this.#changed();
    if (instruments !== null) instrumentExited(task, thrown);
  }

  /** `task` entered a blocking Quartet operation. */
  block(task: Task): void {
    if (task.blocks++ === 0 && task.counted) {
      this.tasksBlocked++;
      this.#changed();
    } else {
      this.#generation++;
    }
  }

  /**
   * `task` left a blocking Quartet operation. Even when it stays blocked in another
   * one (a task waiting in `abortable()` on a generator that sleeps), something was
   * woken and will run: the generation changes, so an idle spell seen before does
   * not count.
   */
  unblock(task: Task): void {
    if (--task.blocks === 0 && task.counted) {
      this.tasksBlocked--;
      this.#changed();
    } else {
      this.#generation++;
    }
  }

  /**
   * `task` waits without a waiter (for its group's children, in `start()`, for a
   * stream's cleanup): blocked as with a waiter, and the task tree and
   * instruments are told what it waits in.
   */
  blockFor(task: Task, what: WaitTarget, site?: CallSite): void {
    this.block(task);
    task.blockedIn = what;
    if (this.debug) blockRecords.set(task, { since: this.now(), site: site ?? new CallSite() });
    if (instruments !== null) instrumentBlocked(task, { what });
  }

  /** Ends a {@link blockFor}. */
  unblockFor(task: Task): void {
    const what = task.blockedIn;
    task.blockedIn = null;
    this.unblock(task);
    if (instruments !== null && what !== null) instrumentUnblocked(task, { what });
  }

  #changed(): void {
    this.#generation++;
    if (this.#idleRequests !== null && this.#idleRequests.size > 0 && this.tasksBlocked === this.tasksLiving) {
      this.#scheduleIdleCheck();
    }
  }

  /** Changes whenever a task is created, ends, blocks or unblocks: equal values mean nothing happened in between. */
  get generation(): number {
    return this.#generation;
  }

  whenIdle(callback: () => void, cushion = 0): () => void {
    const request: IdleRequest = { callback, cushion, generation: -1, timer: undefined };
    const requests = (this.#idleRequests ??= new Set());
    requests.add(request);
    if (this.tasksBlocked === this.tasksLiving) this.#scheduleIdleCheck();
    return () => {
      requests.delete(request);
      clearTimeout(request.timer);
    };
  }

  #scheduleIdleCheck(): void {
    if (this.#idleCheckScheduled) return;
    this.#idleCheckScheduled = true;
    // After the pending promise callbacks and I/O: only then do the counts mean "nothing can run".
    setImmediate(this.#idleCheck);
  }

  readonly #idleCheck = (): void => {
    this.#idleCheckScheduled = false;
    const requests = this.#idleRequests;
    if (requests === null) return;
    const generation = this.#generation;
    // The requests made before this check: one a callback makes (a clock asking again after
    // it jumped) waits for the next check, after what the jump woke has run.
    for (const request of [...requests]) {
      if (this.tasksBlocked !== this.tasksLiving || this.#generation !== generation) return;
      if (request.cushion === 0) {
        requests.delete(request);
        request.callback();
      } else if (request.generation !== generation) {
        clearTimeout(request.timer);
        request.generation = generation;
        request.timer = setTimeout(() => {
          if (this.#generation !== generation || !requests.has(request)) return;
          requests.delete(request);
          request.callback();
        }, request.cushion);
      }
    }
  };

  // ---------------------------------------------------------- schedule points

  /**
   * A promise to await at a schedule point. Usually already resolved (a
   * microtask hop); every {@link SCHEDULE_POINTS_PER_MACROTASK}th one waits for
   * `setImmediate`, so a loop of checkpoints cannot starve timers and I/O.
   */
  schedulePoint(): Promise<void> {
    return this.yieldIfDue() ?? RESOLVED;
  }

  /**
   * For operations that completed without blocking (a buffered send, a receive
   * from a full buffer): usually `undefined`, so the operation returns at once;
   * every {@link SCHEDULE_POINTS_PER_MACROTASK}th time, a promise to await that
   * resolves from `setImmediate`, so that a producer and consumer that never
   * block cannot starve timers and I/O. Await it after the operation took
   * effect: it is not a cancellation point.
   */
  yieldIfDue(): Promise<void> | undefined {
    const left = --this.#schedulePointsLeft;
    // Operations that never block (a buffered send, an uncontended lock) look for passed
    // deadlines every 16th time: cheap enough for their fast path, and a CPU-bound loop of
    // them is cancelled at most 16 operations after its deadline.
    if ((left & 15) === 0) this.pollDeadlines();
    if (left > 0) return undefined;
    this.#schedulePointsLeft = SCHEDULE_POINTS_PER_MACROTASK;
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** What an operation that completed without blocking returns: `result`, after {@link yieldIfDue}'s pause if one is due. */
  completed<T>(result: T): Promise<T> {
    const pause = this.yieldIfDue();
    return pause === undefined ? Promise.resolve(result) : pause.then(() => result);
  }
}

/**
 * The one already-resolved promise that operations completing without waiting
 * return (a channel send, a schedule point): no allocation, and callers can
 * tell "done already" by identity.
 */
export const RESOLVED: Promise<void> = Promise.resolve();
