// A first program as a user writes it, run by the consumer test (scripts/consumer-test.mjs)
// on the installed tarballs: as ESM on every Node of the support table, on Bun and on Deno.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  CancelScope,
  RateLimiter,
  isCancelled,
  map,
  moveOnAfter,
  openBroadcastChannel,
  openMemoryChannel,
  produce,
  retry,
  run,
  sleep,
  taskGroup,
} from "@quartet/core";
import { currentStatistics } from "@quartet/core/lowlevel";
import { fromOperation, fromStream, toOperation } from "@quartet/effection";
import { fromReadable, openWorkerPool, runInWorker, serveHttp } from "@quartet/node";
import { MockClock, waitAllTasksBlocked } from "@quartet/testing";
import { sleep as effectionSleep, suspend } from "effection";
import { INVALID_SPAN_CONTEXT, trace } from "@opentelemetry/api";
import { traceToOpenTelemetry } from "@quartet/opentelemetry";

const done = [];

// Task groups, start()/started(), channels and cancellation (@quartet/core).
await taskGroup(async (tg) => {
  const [send, receive] = openMemoryChannel(1);
  const ready = await tg.start(async (status) => {
    status.started("ready");
    for await (const value of receive) done.push(`received ${value}`);
  });
  done.push(ready);
  await send.send(1);
  await send.send(2);
  send.close();
});
const result = await moveOnAfter(10, () => sleep(60_000));
if (result !== undefined) throw new Error("moveOnAfter should have given up");
const scope = new CancelScope();
scope.cancel("stop");
await scope.run(async () => {
  try {
    await sleep(1);
  } catch (error) {
    if (!isCancelled(error)) throw error;
    done.push("cancelled");
    throw error;
  }
});
const numbers = await produce(async ({ send }) => {
  for (let i = 1; i <= 3; i++) await send(i);
});
let sum = 0;
for await (const n of numbers) sum += n;
done.push(`produced ${sum}`);

// Virtual time (@quartet/testing): an hour's sleep takes no real time.
const clock = new MockClock({ autojumpThreshold: 0 });
const started = performance.now();
await run(async () => {
  await taskGroup(async (tg) => {
    tg.spawn(() => sleep(3_600_000));
    await waitAllTasksBlocked();
  });
}, { clock });
if (performance.now() - started > 5_000) throw new Error("the mock clock took real time");
done.push(`mock clock at ${clock.now()}`);

// Everyday helpers: map with a limit, retry, batches, broadcast, a rate limiter.
let tries = 0;
const doubled = await map([1, 2, 3], (n) => retry(async () => (++tries % 2 === 1 ? Promise.reject(new Error("flaky")) : n * 2), { delay: 1 }), { concurrency: 2 });
const bus = openBroadcastChannel(4);
const subscription = bus.subscribe();
await bus.sendMany(doubled);
bus.close();
const limiter = new RateLimiter(1000, { burst: 3 });
await limiter.acquire(3);
const broadcast = (await subscription.receiveMany()).join(",");
if (broadcast !== "2,4,6") throw new Error(`map/retry/broadcast gave ${broadcast}, not 2,4,6`);
done.push(`helpers ${broadcast}`);

// HTTP and streams (@quartet/node).
await taskGroup(async (tg) => {
  const { port } = await tg.start((status) => serveHttp((_request, response) => void response.end("hi"), { port: 0, host: "127.0.0.1" }, status));
  const response = await fetch(`http://127.0.0.1:${port}/`);
  done.push(`http ${await response.text()}`);
  tg.cancelScope.cancel();
});
const chunks = [];
for await (const chunk of fromReadable(Readable.from(["a", "b"], { objectMode: true }))) chunks.push(chunk);
done.push(`stream ${chunks.join("")}`);

// The bridge with effection (@quartet/effection): both ways, a cancellation, a stream.
const effectionLog = [];
const bridged = await fromOperation(function* () {
  yield* effectionSleep(1);
  return yield* toOperation(async (n) => {
    await sleep(1);
    return n * 2;
  }, 21);
});
await moveOnAfter(5, () =>
  fromOperation(function* () {
    try {
      yield* suspend();
    } finally {
      effectionLog.push("halted");
    }
  }),
);
const naturals = { *[Symbol.iterator]() { let n = 0; return { *next() { return { done: false, value: ++n }; } }; } };
let streamed = 0;
for await (const n of await fromStream(naturals)) if ((streamed = n) === 3) break;
done.push(`effection ${bridged} ${effectionLog.join()} ${streamed}`);

// Worker threads (@quartet/node, on piscina, installed as its dependency): on Node only.
if (globalThis.Bun === undefined && globalThis.Deno === undefined) {
  const dir = mkdtempSync(join(tmpdir(), "quartet-consumer-"));
  const module = join(dir, "double.mjs");
  writeFileSync(module, "export default (n) => n * 2;");
  const pool = openWorkerPool({ maxThreads: 1 });
  try {
    done.push(`worker ${await runInWorker(module, 21, { pool })}`);
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
// Spans (@quartet/opentelemetry, with the program's @opentelemetry/api): a tracer that notes the names it is asked for.
const spanNames = [];
const tracer = {
  startSpan: (name) => (spanNames.push(name), trace.wrapSpanContext(INVALID_SPAN_CONTEXT)),
  startActiveSpan: () => {
    throw new Error("not used");
  },
};
const stopTracing = traceToOpenTelemetry({ tracer });
await taskGroup(async (tg) => tg.spawn(() => sleep(1), { name: "traced" }), { name: "group" });
stopTracing();
if (spanNames.join(", ") !== 'task group "group", task "traced"') throw new Error(`traceToOpenTelemetry() asked for the spans ${spanNames.join(", ")}`);
done.push(`spans ${spanNames.join(", ")}`);

if (currentStatistics().tasksLiving !== 0) throw new Error("a task was left behind");
console.log(done.join("; "));
console.log("ok");
