// A CommonJS TypeScript file (node16): the require() entry points' declarations.
import { taskGroup, type TaskGroup } from "@quartet/core";
import { currentTaskName } from "@quartet/core/lowlevel";
import { MockClock } from "@quartet/testing";
import { runMain } from "@quartet/node";
import { fromOperation } from "@quartet/effection";
import { traceToOpenTelemetry } from "@quartet/opentelemetry";

export async function main(): Promise<string | undefined> {
  void MockClock;
  void runMain;
  void fromOperation;
  traceToOpenTelemetry()();
  return taskGroup(async (tg: TaskGroup) => {
    tg.spawn(async () => {});
    return currentTaskName();
  });
}
