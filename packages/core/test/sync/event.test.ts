import { describe, expect, it } from "vitest";
import { Cancelled, CancelScope, moveOnAfter, now, run, sleep, taskGroup } from "../../src/index.js";
import { addInstrument, formatTaskTree } from "../../src/lowlevel.js";
import { Event } from "../../src/sync/event.js";
import { MockClock, virtual, waitAllTasksBlocked } from "../virtual-time.js";

describe("Event", () => {
  it("starts unset and stays set once set()", () => {
    const event = new Event();
    expect(event.isSet()).toBe(false);
    event.set();
    expect(event.isSet()).toBe(true);
    event.set();
    expect(event.isSet()).toBe(true);
  });

  it("has no clear(): a set event cannot be unset", () => {
    expect("clear" in new Event()).toBe(false);
  });

  it("set() wakes every waiting task, in the order they started waiting", virtual(async () => {
    const event = new Event();
    const woken: string[] = [];
    await taskGroup(async (tg) => {
      for (const [name, delay] of [["c", 3], ["a", 1], ["b", 2]] as const) {
        tg.spawn(async () => {
          await sleep(delay);
          await event.wait();
          woken.push(`${name}@${now()}`);
        });
      }
      await sleep(10);
      expect(woken).toEqual([]);
      expect(event.statistics()).toEqual({ tasksWaiting: 3 });
      event.set();
      expect(event.statistics()).toEqual({ tasksWaiting: 0 });
    });
    expect(woken).toEqual(["a@10", "b@10", "c@10"]);
  }));

  it("wait() on a set event returns without blocking", virtual(async () => {
    const event = new Event();
    event.set();
    const start = now();
    await event.wait();
    expect(now()).toBe(start);
  }));

  it("wait() on a set event is still a checkpoint: it throws Cancelled in a cancelled scope", virtual(async () => {
    const event = new Event();
    event.set();
    const scope = new CancelScope();
    scope.cancel();
    let error: unknown;
    await scope.run(() => event.wait().catch((e: unknown) => ((error = e), Promise.reject(e))));
    expect(error).toBeInstanceOf(Cancelled);
  }));

  it("wait() in a cancelled scope throws Cancelled at once without joining the waiters", virtual(async () => {
    const event = new Event();
    const scope = new CancelScope();
    scope.cancel();
    let error: unknown;
    await scope.run(async () => {
      const waiting = event.wait();
      expect(event.statistics().tasksWaiting).toBe(0);
      await waiting.catch((e: unknown) => ((error = e), Promise.reject(e)));
    });
    expect(error).toBeInstanceOf(Cancelled);
  }));

  it("a task cancelled while waiting leaves the waiters, and set() still wakes the others", virtual(async () => {
    const event = new Event();
    const log: string[] = [];
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await moveOnAfter(5, () => event.wait());
        log.push(`gave up@${now()}`);
      });
      tg.spawn(async () => {
        await event.wait();
        log.push(`woken@${now()}`);
      });
      await sleep(1);
      expect(event.statistics().tasksWaiting).toBe(2);
      await sleep(9);
      expect(event.statistics().tasksWaiting).toBe(1);
      event.set();
    });
    expect(log).toEqual(["gave up@5", "woken@10"]);
  }));

  it("statistics() is a frozen plain record", () => {
    const statistics = new Event().statistics();
    expect(statistics).toEqual({ tasksWaiting: 0 });
    expect(Object.isFrozen(statistics)).toBe(true);
  });

  describe("tasks of one group waiting one after another (they share one waiter)", () => {
    it("are each counted, shown and woken in the order they started waiting, also mixed with tasks of other scopes", virtual(async () => {
      const event = new Event({ name: "go" });
      const woken: string[] = [];
      await taskGroup(async (tg) => {
        for (const name of ["a", "b", "c"]) tg.spawn(async () => { await event.wait(); woken.push(name); }, { name });
        tg.spawn(() => new CancelScope({ name: "own scope" }).run(async () => { await event.wait(); woken.push("d"); }), { name: "d" });
        for (const name of ["e", "f"]) tg.spawn(async () => { await event.wait(); woken.push(name); }, { name });
        await waitAllTasksBlocked(); // every task counts as blocked: the waiting body is idle too
        expect(event.statistics().tasksWaiting).toBe(6);
        const tree = formatTaskTree();
        for (const name of ["a", "b", "c", "d", "e", "f"]) expect(tree).toContain(`task "${name}" — blocked: wait on Event "go"`);
        event.set();
      });
      expect(woken).toEqual(["a", "b", "c", "d", "e", "f"]);
    }));

    it("are all cancelled with their group, each getting the group's Cancelled, and counted out", virtual(async () => {
      const event = new Event();
      const caught: unknown[] = [];
      await taskGroup(async (tg) => {
        for (let i = 0; i < 3; i++) {
          tg.spawn(async () => {
            try {
              await event.wait();
            } catch (error) {
              caught.push(error);
              throw error;
            }
          });
        }
        await waitAllTasksBlocked();
        tg.cancelScope.cancel("enough");
      });
      expect(caught).toHaveLength(3);
      expect(caught[0]).toBeInstanceOf(Cancelled);
      expect(new Set(caught).size).toBe(1);
      expect(event.statistics().tasksWaiting).toBe(0);
    }));

    it("a task of a nested scope that is cancelled leaves; the group's tasks around it still wait and are woken", virtual(async () => {
      const event = new Event();
      const woken: string[] = [];
      const scope = new CancelScope();
      await taskGroup(async (tg) => {
        tg.spawn(async () => { await event.wait(); woken.push("a"); });
        tg.spawn(() => scope.run(() => event.wait()));
        tg.spawn(async () => { await event.wait(); woken.push("c"); });
        await waitAllTasksBlocked();
        scope.cancel();
        await waitAllTasksBlocked();
        expect(event.statistics().tasksWaiting).toBe(2);
        event.set();
      });
      expect(woken).toEqual(["a", "c"]);
    }));

    it("instruments hear each task block and unblock", async () => {
      const blocked: string[] = [];
      const unblocked: string[] = [];
      const remove = addInstrument({
        taskBlocked: (block) => blocked.push(`${block.name} ${block.operation}`),
        taskUnblocked: (block) => unblocked.push(block.name),
      });
      try {
        await run(async () => {
          const event = new Event();
          await taskGroup(async (tg) => {
            for (const name of ["x", "y", "z"]) tg.spawn(() => event.wait(), { name });
            await waitAllTasksBlocked();
            event.set();
          });
        }, { clock: new MockClock({ autojumpThreshold: 0 }) });
      } finally {
        remove();
      }
      expect(blocked.filter((b) => b.endsWith(" wait"))).toEqual(["x wait", "y wait", "z wait"]);
      expect(unblocked.filter((name) => ["x", "y", "z"].includes(name))).toEqual(["x", "y", "z"]);
    });

    it("with debugging on, each task still records its own call site", async () => {
      await run(async () => {
        const event = new Event({ name: "gate" });
        await taskGroup(async (tg) => {
          tg.spawn(() => event.wait(), { name: "first" });
          tg.spawn(() => event.wait(), { name: "second" });
          await waitAllTasksBlocked();
          const lines = formatTaskTree().split("\n").filter((line) => line.includes('wait on Event "gate"'));
          expect(lines).toHaveLength(2);
          for (const line of lines) expect(line).toMatch(/, at .*event\.test\.ts:\d+:\d+/);
          event.set();
        });
      }, { clock: new MockClock({ autojumpThreshold: 0 }), debug: true });
    });
  });
});
