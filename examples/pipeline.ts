// A pipeline over real files: a reader streams a web server's access log line
// by line, four parsers share the lines, and the slow requests go through
// `sort` (a child process) into a report file, slowest first. Every stage runs
// only as fast as the next one takes its output (backpressure), from the disk
// reads to the child's pipes.
// Run it with `npx --yes pnpm@12 tsx examples/pipeline.ts [directory]` (the files
// go to a temporary directory unless one is given); docs/pipelines.md explains it.
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openMemoryChannel, taskGroup, type ReceiveChannel, type SendChannel } from "@quartet/core";
import { fromReadable, runMain, runProcess, toWritable, type RunningProcess } from "@quartet/node";

/** A request from the log. */
interface Request {
  path: string;
  status: number;
  ms: number;
}

/** What counts as slow. */
const SLOW_MS = 900;

// #region read-lines
/** Stage 1: the lines of a file. The file is read a chunk at a time, only as the parsers take lines. */
async function readLines(path: string, output: SendChannel<string>): Promise<void> {
  using out = output; // closing it tells the parsers there are no more lines
  using chunks = fromReadable<string>(createReadStream(path, { encoding: "utf8", highWaterMark: 16_384 }));
  let partial = "";
  for await (const chunk of chunks) {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop()!; // the last line may go on in the next chunk
    for (const line of lines) await out.send(line); // waits while the parsers are busy
  }
  if (partial !== "") await out.send(partial);
}
// #endregion

// #region parse
/** Stage 2, run by several workers sharing one input: parses lines and passes the slow requests on. */
async function parse(input: ReceiveChannel<string>, output: SendChannel<Request>, counted: (lines: number) => void): Promise<void> {
  using lines = input;
  using out = output;
  let count = 0;
  for await (const line of lines) {
    count++;
    const [, , path, status, duration] = line.split(" "); // "<time> GET /items/7 200 123ms"
    const request = { path: path!, status: Number(status), ms: Number.parseInt(duration!, 10) };
    if (request.ms >= SLOW_MS) await out.send(request);
  }
  counted(count);
}
// #endregion

// #region sort
/** Stage 3: sorts the slow requests, slowest first, with `sort` in a child process, into a file. */
async function sortIntoFile(input: ReceiveChannel<Request>, path: string): Promise<void> {
  await taskGroup(async (tg) => {
    const sort = await tg.start<RunningProcess>((status) =>
      runProcess("sort", ["-k1,1nr", "-k3"], { stdin: "pipe", stdout: "pipe" }, status),
    );
    tg.spawn(async () => {
      await using toSort = sort.stdin; // leaving the block ends sort's input: only then can it answer
      for await (const request of input) await toSort.send(`${request.ms} ${request.status} ${request.path}\n`);
    });
    await using file = toWritable(createWriteStream(path)); // leaving the block waits until the file is written
    for await (const chunk of sort.stdout) await file.send(chunk); // sort's output, as fast as the disk takes it
  });
}
// #endregion

/** A made-up access log, the same every time. */
function accessLog(lines: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const status = i % 50 === 0 ? 500 : i % 7 === 0 ? 404 : 200;
    out.push(`2024-05-01T12:00:${String(i % 60).padStart(2, "0")}Z GET /items/${i % 97} ${status} ${(i * 7919) % 1000}ms`);
  }
  return `${out.join("\n")}\n`;
}

// #region main
await runMain(async () => {
  const given = process.argv[2];
  const dir = given ?? (await mkdtemp(join(tmpdir(), "quartet-pipeline-")));
  const logPath = join(dir, "access.log");
  const reportPath = join(dir, "slow.txt");
  await writeFile(logPath, accessLog(20_000));
  try {
    const parsed: number[] = [];
    await taskGroup(async (tg) => {
      const [linesTx, linesRx] = openMemoryChannel<string>(64); // the reader runs at most 64 lines ahead
      const [slowTx, slowRx] = openMemoryChannel<Request>(16);
      tg.spawn(() => readLines(logPath, linesTx), { name: "readLines" });
      for (let i = 0; i < 4; i++) {
        const lines = linesRx.clone(); // each parser gets its own ends; clone before spawning
        const slow = slowTx.clone();
        tg.spawn(() => parse(lines, slow, (count) => parsed.push(count)), { name: `parse-${i + 1}` });
      }
      linesRx.close();
      slowTx.close(); // the sort stage's input ends when the last parser closes its clone
      tg.spawn(() => sortIntoFile(slowRx, reportPath), { name: "sortIntoFile" });
    });
    const report = (await readFile(reportPath, "utf8")).trimEnd().split("\n");
    console.log(`parsed ${parsed.reduce((a, b) => a + b, 0)} lines with ${parsed.length} parsers (${parsed.join(" + ")})`);
    console.log(`${report.length} requests took ${SLOW_MS} ms or more; the slowest: ${report[0]}`);
  } finally {
    if (given === undefined) await rm(dir, { recursive: true, force: true });
  }
});
// #endregion
