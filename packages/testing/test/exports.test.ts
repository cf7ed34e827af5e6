import { expect, it } from "vitest";
import * as testing from "../src/index.js";

it("@quartet/testing exports exactly MockClock, waitAllTasksBlocked, Sequencer, assertCheckpoints, assertNoCheckpoints and withTaskTreeOnTimeout", () => {
  expect(Object.keys(testing).sort()).toEqual([
    "MockClock",
    "Sequencer",
    "assertCheckpoints",
    "assertNoCheckpoints",
    "waitAllTasksBlocked",
    "withTaskTreeOnTimeout",
  ]);
});
