// Type-level tests of the public API: `tsc` (run by `pnpm typecheck`) fails if
// an inferred type changes; vitest runs the file too, where it only checks values.
import { describe, expectTypeOf, it } from "vitest";
import {
  CancelScope,
  TASK_STATUS_IGNORED,
  all,
  failAfter,
  forEach,
  map,
  moveOnAfter,
  openMemoryChannel,
  race,
  retry,
  run,
  taskGroup,
  type TaskGroup,
  type SendManyPromise,
  type TaskStatus,
} from "../src/index.js";

describe("types", () => {
  it("taskGroup and the timeouts that can be cut short include undefined; failAfter does not", async () => {
    expectTypeOf(await taskGroup(async (tg) => {
      expectTypeOf(tg).toEqualTypeOf<TaskGroup>();
      return 1;
    })).toEqualTypeOf<number | undefined>();
    expectTypeOf(await moveOnAfter(1, async () => "x")).toEqualTypeOf<string | undefined>();
    expectTypeOf(await failAfter(1, async () => "x")).toEqualTypeOf<string>();
    expectTypeOf(await new CancelScope().run(async () => true)).toEqualTypeOf<boolean | undefined>();
    expectTypeOf(await run(async () => 5n)).toEqualTypeOf<bigint>();
  });

  it("start() resolves with the type its status is started with", async () => {
    await taskGroup(async (tg) => {
      expectTypeOf(await tg.start<number>(async (status) => status.started(1))).toEqualTypeOf<number>();
      expectTypeOf(await tg.start(async (status: TaskStatus) => status.started())).toEqualTypeOf<void>();
      // @ts-expect-error a string is not a number
      await tg.start<number>(async (status) => status.started("one")).catch(() => {});
    });
    expectTypeOf(TASK_STATUS_IGNORED).toMatchTypeOf<TaskStatus<number>>();
  });

  it("all() keeps the type of each position of a tuple; race() gives the union", async () => {
    const [n, s] = await all([async () => 1, async () => "two"]);
    expectTypeOf(n).toEqualTypeOf<number>();
    expectTypeOf(s).toEqualTypeOf<string>();
    const fns: Array<() => Promise<number>> = [async () => 1];
    expectTypeOf(await all(fns)).toEqualTypeOf<number[]>();
    expectTypeOf(await all<number>(fns)).toEqualTypeOf<number[]>();
    expectTypeOf(await race([async () => 1, async () => "two"])).toEqualTypeOf<number | string>();
  });

  it("map() gives an array of what fn resolves to, from sync and async inputs; forEach() gives void; retry() what fn gives", async () => {
    expectTypeOf(await map([1, 2], async (n, index) => {
      expectTypeOf(index).toEqualTypeOf<number>();
      return String(n);
    })).toEqualTypeOf<string[]>();
    const [send, receive] = openMemoryChannel<Date>();
    send.close(); // the channel has ended: map() over it resolves with []
    expectTypeOf(await map(receive, (d) => d.getTime())).toEqualTypeOf<number[]>();
    expectTypeOf(await forEach(new Set(["a"]), (s) => s.length)).toEqualTypeOf<void>();
    expectTypeOf(await retry(async (attempt) => attempt > 0)).toEqualTypeOf<boolean>();
  });

  it("sendMany() returns a promise with a count; receiveMany() an array of the channel's type", async () => {
    const [send, receive] = openMemoryChannel<number>(10);
    const sending = send.sendMany([1, 2]);
    expectTypeOf(sending).toEqualTypeOf<SendManyPromise>();
    expectTypeOf(sending.delivered).toEqualTypeOf<number>();
    await sending;
    expectTypeOf(await receive.receiveMany(2)).toEqualTypeOf<number[]>();
    // @ts-expect-error a string is not a number
    send.sendMany(["one"]).catch(() => {});
  });
});
