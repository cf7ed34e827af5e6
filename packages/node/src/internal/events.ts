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
  const parked = parkCurrentTask<Emitted>(remove);
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
