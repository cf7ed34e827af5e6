/**
 * Waiting for an event of a Node EventEmitter as a Quartet operation.
 *
 * @module
 */

import type { EventEmitter } from "node:events";
import { parkCurrentTask } from "@quartet/core/lowlevel";

/** Which of the awaited events came first, and its arguments. */
export interface Emitted {
  readonly name: string;
  readonly args: unknown[];
}

/**
 * Parks the calling task until `emitter` emits one of `names`; the listeners
 * are removed when it does, or when the wait is cancelled. A checkpoint.
 * (Unlike `events.once` raced with `abortable()`, the task counts as blocked
 * while it waits, and no listener is left behind.)
 */
export function waitForEvent(emitter: EventEmitter, names: readonly string[]): Promise<Emitted> {
  const listeners: Array<[string, (...args: unknown[]) => void]> = [];
  const remove = (): void => {
    for (const [name, listener] of listeners) emitter.off(name, listener);
  };
  const parked = parkCurrentTask<Emitted>(remove, { operation: `wait for '${names.join("' or '")}'`, object: emitter.constructor?.name || "EventEmitter" });
  for (const name of names) {
    const listener = (...args: unknown[]): void => {
      remove();
      parked.wake({ name, args });
    };
    listeners.push([name, listener]);
    emitter.on(name, listener);
  }
  return parked.promise;
}

/**
 * Parks the calling task until every stream in `streams` has emitted 'close',
 * or `ms` real milliseconds have passed, whichever comes first. The time is the
 * real clock's, not the runtime's: it bounds a wait for the operating system,
 * which virtual time must not cut short. A checkpoint.
 */
export function waitForCloseWithin(streams: readonly EventEmitter[], ms: number): Promise<void> {
  const open = streams.filter((stream) => !(stream as { closed?: boolean }).closed);
  let timer: NodeJS.Timeout | undefined;
  const remove = (): void => {
    clearTimeout(timer);
    for (const stream of open) stream.off("close", onClose);
  };
  const parked = parkCurrentTask<void>(remove, { operation: "wait for streams to close" });
  let waiting = open.length;
  const done = (): void => {
    remove();
    parked.wake();
  };
  function onClose(): void {
    if (--waiting === 0) done();
  }
  if (waiting === 0) {
    done();
    return parked.promise;
  }
  for (const stream of open) stream.once("close", onClose);
  timer = setTimeout(done, ms);
  return parked.promise;
}

/** Parks the calling task for `ms` real milliseconds (0: until the event loop's next turn, after pending I/O). A checkpoint. */
export function sleepReal(ms: number): Promise<void> {
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  const parked = parkCurrentTask<void>(() => (ms === 0 ? clearImmediate(timer as NodeJS.Immediate) : clearTimeout(timer as NodeJS.Timeout)), {
    operation: `sleep ${ms} ms of real time`,
  });
  timer = ms === 0 ? setImmediate(() => parked.wake()) : setTimeout(() => parked.wake(), ms);
  return parked.promise;
}
