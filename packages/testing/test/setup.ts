// Runs around every test of the package: a test must not leave a timer, an
// immediate or a task behind. (vitest keeps one timer of its own running for the
// hook or test in progress, so timers are compared with the count before the test.)
import { afterEach, beforeEach, expect } from "vitest";
import { currentStatistics } from "quartet/lowlevel";

function hostTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "Timeout" || kind === "Immediate").length;
}

let timersBefore = 0;

beforeEach(() => {
  timersBefore = hostTimers();
});

afterEach(async () => {
  // Let promise callbacks of the test settle before looking.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  expect(hostTimers(), "host timers left behind by the test").toBeLessThanOrEqual(timersBefore);
  expect(currentStatistics().tasksLiving, "tasks left behind in the implicit root").toBe(0);
  expect(currentStatistics().deadlines, "deadlines left behind in the implicit root").toBe(0);
});
