import { expect, it } from "vitest";
import { runExample } from "./run-example.js";

it("producer.ts opens the file in setup, reads lines only on demand, closes it on leaving early, and reports a missing file from produce()", async () => {
  const { stdout, stderr } = await runExample("producer");
  const lines = stdout.trim().split("\n").map((line) => line.replace(/\/\S+poem\.txt/, "<poem>"));
  expect(lines).toEqual([
    "consumer: taking two lines",
    "producer: opened <poem>",
    "consumer: the file is open; nothing has been read yet",
    "producer: read line 1",
    'consumer: got "first line"',
    "producer: read line 2",
    'consumer: got "second line"',
    "producer: closed the file",
    "consumer: left the loop",
    "consumer: opening a file that does not exist",
    "consumer: produce() threw ENOENT",
  ]);
  expect(stderr).toBe("");
});
