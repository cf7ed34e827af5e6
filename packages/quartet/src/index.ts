/**
 * Quartet: structured concurrency for TypeScript on Node.js, modeled on trio.
 *
 * @module quartet
 */

export { run, type RunOptions } from "./run.js";
export { taskGroup, TASK_STATUS_IGNORED, type TaskGroup, type TaskOptions, type TaskStatus } from "./task-group.js";
export { CancelScope, type CancelScopeOptions } from "./cancel-scope.js";
export { moveOnAfter, moveOnAt, failAfter, failAt, type TimeoutOptions } from "./timeouts.js";
export { sleep, sleepUntil, sleepForever } from "./sleep.js";
export { checkpoint } from "./checkpoint.js";
export { now, currentEffectiveDeadline } from "./time.js";
export { currentSignal, abortable } from "./signal.js";
export { all, race } from "./combinators.js";
export { Event } from "./sync/event.js";
export { Lock } from "./sync/lock.js";
export { Semaphore } from "./sync/semaphore.js";
export { CapacityLimiter } from "./sync/capacity-limiter.js";
export { Condition } from "./sync/condition.js";
export type { Clock, ClockAlarm } from "./core/runtime.js";
export {
  Cancelled,
  TimeoutError,
  EndOfChannel,
  ClosedResourceError,
  BrokenResourceError,
  WouldBlock,
  TaskGroupError,
  isCancelled,
} from "./core/errors.js";
