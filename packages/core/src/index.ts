/**
 * Quartet: structured concurrency for TypeScript on Node.js, modeled on trio.
 *
 * @module @quartet/core
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
export { map, forEach, type MapInput, type MapOptions } from "./map.js";
export { retry, type RetryOptions } from "./retry.js";
export { openMemoryChannel, type ChannelStatistics, type ReceiveChannel, type SendChannel, type SendManyPromise } from "./channel.js";
export {
  openBroadcastChannel,
  type BroadcastChannel,
  type BroadcastOptions,
  type BroadcastStatistics,
  type BroadcastSubscription,
  type SubscriptionStatistics,
  type WhenFull,
} from "./broadcast.js";
export { produce, type ProduceOptions, type ProducerContext, type ProducerStream } from "./producer.js";
export { Event, type EventStatistics } from "./sync/event.js";
export { Lock, type LockStatistics } from "./sync/lock.js";
export { Semaphore, type SemaphoreOptions, type SemaphoreStatistics } from "./sync/semaphore.js";
export { CapacityLimiter, type CapacityLimiterStatistics } from "./sync/capacity-limiter.js";
export { Condition, type ConditionStatistics } from "./sync/condition.js";
export { RateLimiter, type RateLimiterOptions, type RateLimiterStatistics } from "./sync/rate-limiter.js";
export type { Clock, ClockAlarm } from "./core/runtime.js";
export type { NameOptions } from "./core/validate.js";
export {
  Cancelled,
  TimeoutError,
  EndOfChannel,
  ClosedResourceError,
  BrokenResourceError,
  WouldBlock,
  TaskGroupError,
  DeadlockError,
  isCancelled,
  type CancelOrigin,
} from "./core/errors.js";
