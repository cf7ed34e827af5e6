import { expect, it } from "vitest";
import { runExample } from "./run-example.js";

it("effection.ts runs each step of moving an effection program to Quartet, and the cancelled worker disconnects before Quartet goes on", async () => {
  const { stdout, stderr } = await runExample("effection");
  const handled = (suffix: string) => ["jobs: connected", `job 1 done${suffix}`, `job 2 done${suffix}`, "jobs: disconnected"];
  expect(stdout.trim().split("\n")).toEqual([
    ...handled(""), // step 1: the worker as it was
    ...handled(""), // step 1: cancelled after two jobs
    "step 1: the worker was cancelled",
    ...handled(" in Quartet"), // step 2
    ...handled(" in Quartet"), // step 3
    "job 1 done, read from a Quartet channel", // step 4
    "job 2 done, read from a Quartet channel",
  ]);
  expect(stderr).toBe("");
});
