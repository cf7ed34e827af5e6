/**
 * `@quartet/testing`: virtual time and helpers for testing code that uses Quartet.
 *
 * @module @quartet/testing
 */

export { MockClock, type MockClockOptions } from "./mock-clock.js";
export { waitAllTasksBlocked } from "./wait-all-tasks-blocked.js";
export { Sequencer } from "./sequencer.js";
export { assertCheckpoints, assertNoCheckpoints } from "./checkpoints.js";
export { withTaskTreeOnTimeout, type TaskTreeOnTimeoutOptions } from "./task-tree-on-timeout.js";
