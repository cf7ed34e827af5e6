import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runExample } from "./run-example.js";

it("pipeline.ts reads the log through four parsers and sort into a report of every slow request, slowest first", async () => {
  const dir = await mkdtemp(join(tmpdir(), "quartet-pipeline-test-"));
  try {
    const { stdout, stderr } = await runExample("pipeline", [dir]);
    expect(stderr).toBe("");
    const [parsedLine, slowLine, ...rest] = stdout.trimEnd().split("\n");
    expect(rest).toEqual([]);
    const [, total, shares] = parsedLine!.match(/^parsed (\d+) lines with 4 parsers \((.*)\)$/)!;
    expect(Number(total)).toBe(20_000);
    const counts = shares!.split(" + ").map(Number);
    expect(counts).toHaveLength(4);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(20_000);
    for (const count of counts) expect(count).toBeGreaterThan(0); // the lines were shared
    expect(slowLine).toMatch(/^2000 requests took 900 ms or more; the slowest: 999 \d{3} \/items\/\d+$/);

    // The report holds exactly the slow requests of the log, each once, slowest first.
    const log = (await readFile(join(dir, "access.log"), "utf8")).trimEnd().split("\n");
    const expected = log
      .map((line) => line.split(" "))
      .filter(([, , , , duration]) => Number.parseInt(duration!, 10) >= 900)
      .map(([, , path, status, duration]) => `${Number.parseInt(duration!, 10)} ${status} ${path}`);
    const report = (await readFile(join(dir, "slow.txt"), "utf8")).trimEnd().split("\n");
    expect([...report].sort()).toEqual([...expected].sort());
    const durations = report.map((line) => Number(line.split(" ")[0]));
    expect(durations).toEqual([...durations].sort((a, b) => b - a));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
