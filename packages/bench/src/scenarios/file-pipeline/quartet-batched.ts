/**
 * file-pipeline, quartet-batched: the same pipeline, with each chunk's lines
 * sent at once (`sendMany`) and taken by the workers a batch at a time
 * (`receiveMany`), as docs/pipelines.md advises for a big file.
 */
import { createReadStream } from "node:fs";
import { EndOfChannel, openMemoryChannel, taskGroup, type ReceiveChannel, type SendChannel } from "@quartet/core";
import { fromReadable } from "@quartet/node";
import type { Peer } from "../../scenario.js";
import { CHUNK_SIZE, logFile, Stopwatch, Tally, WORKERS } from "./scenario.js";

/** Lines of buffer between the reader and the workers. */
const BUFFER = 64;
/** The most lines a worker takes at a time. */
const BATCH = 256;

async function readLines(path: string, output: SendChannel<string>): Promise<void> {
  using out = output;
  using chunks = fromReadable<string>(createReadStream(path, { encoding: "utf8", highWaterMark: CHUNK_SIZE }));
  let partial = "";
  for await (const chunk of chunks) {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!;
    await out.sendMany(lines); // one checkpoint for the chunk; waits for room as send() does
  }
  if (partial !== "") await out.send(partial);
}

async function parse(input: ReceiveChannel<string>, output: SendChannel<Tally>): Promise<void> {
  using lines = input;
  using out = output;
  const tally = new Tally();
  for (;;) {
    let batch: string[];
    try {
      batch = await lines.receiveMany(BATCH);
    } catch (error) {
      if (error instanceof EndOfChannel) break;
      throw error;
    }
    for (const line of batch) tally.addLine(line);
  }
  await out.send(tally);
}

const peer: Peer = async (n) => {
  const stopwatch = new Stopwatch();
  const total = new Tally();
  await taskGroup(async (tg) => {
    const [linesTx, linesRx] = openMemoryChannel<string>(BUFFER);
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
  return { ...stopwatch.outcome(n, total), note: `${BUFFER} lines of buffer, batches of up to ${BATCH}` };
};
export default peer;
