// The same packages through require() (Node loads the ES modules; see engines),
// run by the consumer test on every Node of the support table.
"use strict";
const { Cancelled, TimeoutError, failAfter, sleep, taskGroup } = require("@quartet/core");
const { currentTaskName } = require("@quartet/core/lowlevel");
const { MockClock } = require("@quartet/testing");
const { serveHttp } = require("@quartet/node");
const { fromOperation, toOperation } = require("@quartet/effection");
// effection's own CommonJS build: a second copy of effection next to the ES module one the bridge imports.
const effection = require("effection");
const { traceToOpenTelemetry } = require("@quartet/opentelemetry");

async function main() {
  // One runtime for import and require: the same classes, the same current task.
  const esm = await import("@quartet/core");
  if (esm.Cancelled !== Cancelled || esm.taskGroup !== taskGroup) throw new Error("require() and import gave two copies of @quartet/core");
  if (typeof MockClock !== "function" || typeof serveHttp !== "function" || typeof traceToOpenTelemetry !== "function") throw new Error("missing exports");
  traceToOpenTelemetry()(); // on (with the global, no-op tracer provider), then off

  const names = [];
  await taskGroup(async (tg) => {
    tg.spawn(async () => {
      await sleep(1);
      names.push(currentTaskName());
    }, { name: "worker" });
  });
  try {
    await failAfter(5, () => sleep(60_000));
    throw new Error("failAfter should have thrown");
  } catch (error) {
    if (!(error instanceof esm.TimeoutError) || !(error instanceof TimeoutError)) throw error;
  }
  // Operations of effection's CommonJS copy run through the bridge, both ways.
  const bridged = await fromOperation(function* () {
    yield* effection.sleep(1);
    return yield* toOperation(async () => "bridged");
  });
  const fromCjsRun = await effection.run(() => toOperation(async () => 42));
  if (bridged !== "bridged" || fromCjsRun !== 42) throw new Error(`the bridge gave ${bridged} and ${fromCjsRun}`);
  console.log(`require: task ${names.join()}, TimeoutError caught, effection ${bridged}`);
  console.log("ok");
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
