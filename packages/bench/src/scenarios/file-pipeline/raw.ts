/**
 * file-pipeline, raw: `stream.pipeline` of the file's read stream, a Transform
 * that splits each chunk into lines and parses them into a tally, and a
 * Writable that aggregates the tallies. (No workers: one thread either way.)
 */
import { createReadStream } from "node:fs";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Peer } from "../../scenario.js";
import { CHUNK_SIZE, logFile, Stopwatch, Tally } from "./scenario.js";

const peer: Peer = async (n) => {
  const stopwatch = new Stopwatch();
  const total = new Tally();
  let partial = "";
  const tally = new Tally();
  await pipeline(
    createReadStream(logFile(n), { encoding: "utf8", highWaterMark: CHUNK_SIZE }),
    new Transform({
      decodeStrings: false,
      readableObjectMode: true,
      transform(chunk: string, _encoding, callback) {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop()!; // the last line may go on in the next chunk
        for (const line of lines) tally.addLine(line);
        callback();
      },
      flush(callback) {
        if (partial !== "") tally.addLine(partial);
        callback(null, tally);
      },
    }),
    new Writable({
      objectMode: true,
      write(part: Tally, _encoding, callback) {
        total.merge(part);
        callback();
      },
    }),
  );
  return { ...stopwatch.outcome(n, total), note: "one Transform splits and parses (no workers: one thread either way)" };
};
export default peer;
