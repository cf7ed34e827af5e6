// The program of docs/tracing.md, run as a user would: its span tree is the one the guide shows.
import { readFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { runExample } from "./run-example.js";

it("tracing.ts prints the span tree of its run: every task under its group, the query under its task, the cancellations and the failure", async () => {
  const { stdout, stderr } = await runExample("tracing");
  expect(stderr).toBe("");
  expect(stdout).toBe(await readFile(new URL("../tracing.output.txt", import.meta.url), "utf8"));
});
