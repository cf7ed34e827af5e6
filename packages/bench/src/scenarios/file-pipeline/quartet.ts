/**
 * file-pipeline, quartet: one line per `send()`, as docs/pipelines.md's Stage
 * 1 does: a reader task, 4 workers sharing the lines channel (64 lines of
 * buffer), each with a tally of its own, and the aggregate of their tallies.
 */
import { createReadStream } from "node:fs";
import { openMemoryChannel, taskGroup, type ReceiveChannel, type SendChannel } from "@quartet/core";
import { fromReadable } from "@quartet/node";
import type { Peer } from "../../scenario.js";
import { CHUNK_SIZE, logFile, Stopwatch, Tally, WORKERS } from "./scenario.js";

async function readLines(path: string, output: SendChannel<string>): Promise<void> {
  using out = output;
  using chunks = fromReadable<string>(createReadStream(path, { encoding: "utf8", highWaterMark: CHUNK_SIZE }));
  let partial = "";
  for await (const chunk of chunks) {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    for (const line of lines) await out.send(line);
  }
  if (partial !== "") await out.send(partial);
}

async function parse(input: ReceiveChannel<string>, output: SendChannel<Tally>): Promise<void> {
  using lines = input;
  using out = output;
  const tally = new Tally();
  for await (const line of lines) tally.addLine(line);
  await out.send(tally);
}

const peer: Peer = async (n) => {
  const stopwatch = new Stopwatch();
  const total = new Tally();
  await taskGroup(async (tg) => {
    const [linesTx, linesRx] = openMemoryChannel<string>(64);
    const [talliesTx, talliesRx] = openMemoryChannel<Tally>(WORKERS);
    tg.spawn(() => readLines(logFile(n), linesTx));
    for (let i = 0; i < WORKERS; i++) {
      const lines = linesRx.clone();
      const tallies = talliesTx.clone();
      tg.spawn(() => parse(lines, tallies));
    }
    linesRx.close();
    talliesTx.close();
    for await (const tally of talliesRx) total.merge(tally);
  });
  return stopwatch.outcome(n, total);
};
export default peer;
