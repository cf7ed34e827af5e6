// Type-checked by the consumer test against the installed declarations, strict and
// without skipLibCheck, once with moduleResolution node16 and once with bundler.
import type { AddressInfo } from "node:net";
import {
  CancelScope,
  type BroadcastSubscription,
  type Clock,
  map,
  openBroadcastChannel,
  RateLimiter,
  retry,
  type SendManyPromise,
  openMemoryChannel,
  produce,
  type ReceiveChannel,
  type SendChannel,
  taskGroup,
  type TaskStatus,
} from "@quartet/core";
import { currentStatistics, type RunStatistics } from "@quartet/core/lowlevel";
import { fromOperation, fromStream, toOperation, toStream, type FromOperationOptions } from "@quartet/effection";
import { serveHttp } from "@quartet/node";
import { MockClock, Sequencer } from "@quartet/testing";
import { createScope, each, type Operation } from "effection";
import { trace } from "@opentelemetry/api";
import { traceToOpenTelemetry, type OpenTelemetryTracingOptions } from "@quartet/opentelemetry";

async function service(status: TaskStatus<AddressInfo>): Promise<void> {
  await serveHttp((_request, response) => void response.end("hi"), { port: 0 }, status);
}

export async function main(): Promise<number> {
  const clock: Clock = new MockClock({ autojumpThreshold: 0 });
  void clock;
  const sequencer = new Sequencer();
  void sequencer;
  const [send, receive]: [SendChannel<string>, ReceiveChannel<string>] = openMemoryChannel<string>(4);
  const port = await taskGroup(async (tg) => {
    const address = await tg.start(service);
    tg.cancelScope.cancel();
    return address.port;
  });
  await send.send("x");
  send.close();
  for await (const value of receive) value.toUpperCase();
  const stream = await produce<number>(async (ctx) => {
    await ctx.send(1);
  });
  await using _ = stream;
  const scope = new CancelScope({ shield: true });
  await scope.run(async () => {});
  const lengths: number[] = await map(["a", "bb"], (s) => retry(async () => s.length), { concurrency: 1 });
  const bus = openBroadcastChannel<number>(4, { whenFull: "dropOldest" });
  const subscription: BroadcastSubscription<number> = bus.subscribe();
  const sending: SendManyPromise = bus.sendMany(lengths);
  await sending;
  await new RateLimiter(10).acquire();
  const batch: number[] = await subscription.receiveMany(2);
  const [effectionScope, destroy] = createScope();
  const options: FromOperationOptions = { scope: effectionScope };
  const doubled: number = await fromOperation(function* (): Operation<number> {
    return yield* toOperation(async (n: number) => n * 2, 21);
  }, options);
  await destroy();
  const [tx, rx] = openMemoryChannel<number>(1);
  tx.sendNowait(doubled);
  tx.close();
  const viaEffection = await fromStream(toStream(rx));
  for await (const n of viaEffection) n.toFixed();
  void each;
  const tracing: OpenTelemetryTracingOptions = { tracer: trace.getTracer("app"), spans: { scopes: false } };
  const stopTracing: () => void = traceToOpenTelemetry(tracing);
  stopTracing();
  const stats: RunStatistics = currentStatistics();
  return (port ?? 0) + stats.tasksLiving + batch.length + sending.delivered;
}
