// The package's own tests run on virtual time: a MockClock with autojump, so a
// test that sleeps for an hour takes no real time and its wake-ups happen in a
// fixed order. @quartet/testing is imported by path because it depends on
// @quartet/core; a dependency back would make a cycle in the workspace.
import { run } from "../src/index.js";
import { MockClock } from "../../testing/src/index.js";

export { MockClock, Sequencer, waitAllTasksBlocked } from "../../testing/src/index.js";

/** Wraps a test body so that it runs in its own run() on a MockClock with autojump. */
export function virtual(body: () => Promise<void>): () => Promise<void> {
  return () => run(body, { clock: new MockClock({ autojumpThreshold: 0 }) });
}
