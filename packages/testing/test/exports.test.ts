import { expect, it } from "vitest";
import * as testing from "../src/index.js";

it("@quartet/testing exports exactly MockClock, waitAllTasksBlocked and Sequencer", () => {
  expect(Object.keys(testing).sort()).toEqual(["MockClock", "Sequencer", "waitAllTasksBlocked"]);
});
