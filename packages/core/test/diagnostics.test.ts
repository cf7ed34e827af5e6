// Seeing inside a run: why a cancellation happened (Cancelled.origin), the task
// tree and its text, debugging mode's call sites, and instruments.
import { AsyncLocalStorage } from "node:async_hooks";
import { describe, expect, it } from "vitest";
import {
  CancelScope,
  Cancelled,
  CapacityLimiter,
  Condition,
  Event,
  Lock,
  Semaphore,
  abortable,
  checkpoint,
  moveOnAfter,
  now,
  openMemoryChannel,
  produce,
  run,
  sleep,
  sleepForever,
  taskGroup,
  type TaskStatus,
} from "../src/index.js";
import { addInstrument, cancelWithOrigin, formatTaskTree, parkCurrentTask, taskTree, type TaskTreeScope, type TaskTreeTask } from "../src/lowlevel.js";
import { MockClock, virtual, waitAllTasksBlocked } from "./virtual-time.js";

/** The Cancelled that `body` sees at its next checkpoint inside `scope`. */
async function cancelledIn(scope: CancelScope, body: () => void): Promise<Cancelled> {
  let seen: unknown;
  await scope.run(async () => {
    body();
    try {
      await sleepForever();
    } catch (error) {
      seen = error;
      throw error;
    }
  });
  expect(seen).toBeInstanceOf(Cancelled);
  return seen as Cancelled;
}

describe("Cancelled.origin", () => {
  it("says an explicit cancel() cancelled the named scope, with the reason, in words", virtual(async () => {
    const scope = new CancelScope({ name: "refresh" });
    const cancelled = await cancelledIn(scope, () => scope.cancel("user asked"));
    expect(cancelled.origin).toEqual({ kind: "cancel", scope: "refresh" });
    expect(cancelled.message).toBe('cancelled: "refresh" was cancelled: user asked');
    expect(scope.signal.reason).toBe(cancelled);
    const unnamed = new CancelScope();
    expect((await cancelledIn(unnamed, () => unnamed.cancel())).message).toBe("cancelled: the cancel scope was cancelled");
  }));

  it("says a deadline passed", virtual(async () => {
    const scope = new CancelScope({ name: "query", deadline: now() + 10 });
    const cancelled = await cancelledIn(scope, () => {});
    expect(cancelled.origin.kind).toBe("deadline");
    expect(cancelled.origin.scope).toBe("query");
    expect(cancelled.message).toBe('cancelled because the deadline of "query" passed');
  }));

  it("names the task whose failure cancelled its group, and its error", virtual(async () => {
    const boom = new TypeError("boom");
    let seen: unknown;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        try {
          await sleepForever();
        } catch (error) {
          seen = error;
          throw error;
        }
      });
      tg.spawn(async () => {
        await sleep(1);
        throw boom;
      }, { name: "fetch-user" });
    }, { name: "profile" }).catch(() => {});
    const cancelled = seen as Cancelled;
    expect(cancelled.origin).toEqual({ kind: "failure", scope: "profile", task: "fetch-user", error: boom });
    expect(cancelled.message).toBe('cancelled because task "fetch-user" failed: TypeError: boom');
    expect(cancelled.reason).toBe(boom);
  }));

  it("names the body as the failing task when the body of a group fails", async () => {
    let seen: unknown;
    await run(async function handler() {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          try {
            await sleepForever();
          } catch (error) {
            seen = error;
            throw error;
          }
        });
        await sleep(1);
        throw new Error("body failed");
      }).catch(() => {});
    }, { clock: new MockClock({ autojumpThreshold: 0 }) });
    expect((seen as Cancelled).origin.task).toBe("handler");
  });

  it("carries the kind a package gives with cancelWithOrigin()", virtual(async () => {
    const scope = new CancelScope({ name: "GET /report" });
    const cancelled = await cancelledIn(scope, () => cancelWithOrigin(scope, "disconnect", "client went away"));
    expect(cancelled.origin).toEqual({ kind: "disconnect", scope: "GET /report" });
    expect(cancelled.reason).toBe("client went away");
    expect(cancelled.message).toBe('cancelled (disconnect): "GET /report" was cancelled: client went away');
    expect(() => cancelWithOrigin({} as CancelScope, "x")).toThrow(TypeError);
    expect(() => cancelWithOrigin(new CancelScope(), "")).toThrow(TypeError);
  }));

  it("records where cancel() was called only with debugging on", async () => {
    const clock = (): MockClock => new MockClock({ autojumpThreshold: 0 });
    let plain: Cancelled | undefined;
    let debugged: Cancelled | undefined;
    await run(async () => {
      const scope = new CancelScope();
      plain = await cancelledIn(scope, () => scope.cancel());
    }, { clock: clock() });
    await run(async () => {
      const scope = new CancelScope();
      debugged = await cancelledIn(scope, function cancelsHere() {
        scope.cancel();
      });
    }, { clock: clock(), debug: true });
    expect(plain!.origin.stack).toBeUndefined();
    expect(debugged!.origin.stack).toMatch(/cancelsHere/);
    expect(debugged!.origin.stack).toMatch(/diagnostics\.test\.ts/);
    expect(debugged!.origin.stack).not.toMatch(/cancel-node|cancel-scope\.ts/); // Quartet's own frames are left out
  });

  it("rejects a debug option that is not a boolean", async () => {
    await expect(run(async () => {}, { debug: "yes" as never })).rejects.toThrow("run() debug option must be a boolean");
  });
});

/** Finds the first task or scope named `name`, depth first. */
function find(tree: TaskTreeTask | TaskTreeScope, name: string): TaskTreeTask | TaskTreeScope | undefined {
  const stack: Array<TaskTreeTask | TaskTreeScope> = [tree];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.name === name) return item;
    stack.push(...item.tasks, ...item.scopes);
  }
  return undefined;
}

describe("taskTree()", () => {
  it("shows groups, their tasks, nested scopes, and what every blocked task waits in", async () => {
    // A clock that stands still: the snapshot is of the moment everything has blocked.
    await run(() => taskGroup(async (tg) => {
      const [send] = openMemoryChannel<number>(0, { name: "jobs" });
      const [, idle] = openMemoryChannel<number>(0, { name: "idle" });
      const lock = new Lock({ name: "db" });
      await lock.acquire();
      const semaphore = new Semaphore(0, { name: "permits" });
      const limiter = new CapacityLimiter(1, { name: "pool" });
      await limiter.acquire();
      const event = new Event({ name: "go" });
      const condition = new Condition(undefined, { name: "changed" });
      tg.spawn(() => idle.receive(), { name: "receiver" });
      tg.spawn(async () => {
        await send.send(1);
      }, { name: "sender" });
      tg.spawn(() => lock.acquire(), { name: "locker" });
      tg.spawn(() => semaphore.acquire(), { name: "semaphored" });
      tg.spawn(() => limiter.acquire(), { name: "limited" });
      tg.spawn(() => event.wait(), { name: "eventful" });
      tg.spawn(async () => {
        await condition.acquire();
        await condition.wait();
      }, { name: "conditioned" });
      tg.spawn(() => abortable(new Promise(() => {})), { name: "foreign" });
      tg.spawn(() => new CancelScope({ name: "bounded", deadline: now() + 500 }).run(() => sleep(100)), { name: "sleeper" });
      tg.spawn(() => sleepForever(), { name: "forever" });
      tg.spawn(() => tg.start(async (status: TaskStatus) => {
        await sleep(50);
        status.started();
      }, { name: "slow service" }), { name: "starter" });
      await tg.start(async (status: TaskStatus) => {
        status.started();
        await sleepForever();
      }, { name: "service" });
      await sleep(0);
      tg.spawn(() => taskGroup(async (inner) => {
        inner.spawn(() => sleepForever(), { name: "grandchild" });
      }, { name: "inner" }), { name: "parent" });
      await waitAllTasksBlocked();
      const tree = taskTree();
      expect(tree.main).toMatchObject({ type: "task", name: "main", state: "running" });
      const group = tree.main.scopes[0]!;
      expect(group).toMatchObject({ type: "group", name: "server", deadline: Infinity, shield: false, cancelled: null, effectivelyCancelled: false });
      const waits = Object.fromEntries(group.tasks.map((task) => [task.name, task.wait && { ...task.wait }]));
      expect(waits).toEqual({
        receiver: { operation: "receive", object: "channel", name: "idle" },
        sender: { operation: "send", object: "channel", name: "jobs" },
        locker: { operation: "acquire", object: "Lock", name: "db" },
        semaphored: { operation: "acquire", object: "Semaphore", name: "permits" },
        limited: { operation: "acquire", object: "CapacityLimiter", name: "pool" },
        eventful: { operation: "wait", object: "Event", name: "go" },
        conditioned: { operation: "wait", object: "Condition", name: "changed" },
        foreign: { operation: "abortable", object: "foreign promise" },
        sleeper: { operation: "sleep", until: tree.now + 100 },
        forever: { operation: "sleep", until: Infinity },
        starter: { operation: "wait for started()", object: "task", name: "slow service" },
        parent: { operation: "wait for children", object: "task group", name: "inner" },
        service: { operation: "sleep", until: Infinity },
      });
      expect(group.tasks.map((task) => task.state)).toEqual(group.tasks.map(() => "blocked"));
      const sleeper = find(tree.main, "sleeper") as TaskTreeTask;
      expect(sleeper.scopes).toEqual([
        { type: "scope", name: "bounded", deadline: tree.now + 500, shield: false, cancelled: null, effectivelyCancelled: false, scopes: [], tasks: [] },
      ]);
      const starting = find(tree.main, "slow service") as TaskTreeTask;
      expect(starting).toMatchObject({ starting: true, state: "blocked", wait: { operation: "sleep" } });
      expect((find(tree.main, "starter") as TaskTreeTask).tasks.map((task) => task.name)).toEqual(["slow service"]);
      expect((find(tree.main, "service") as TaskTreeTask).starting).toBe(false);
      const inner = find(tree.main, "inner") as TaskTreeScope;
      expect(inner.tasks.map((task) => [task.name, task.wait?.operation])).toEqual([["grandchild", "sleep"]]);
      expect(JSON.parse(JSON.stringify(tree)).main.name).toBe("main"); // plain data
      tg.cancelScope.cancel();
    }, { name: "server" }), { clock: new MockClock() });
  });

  it("shows cancellation state with its origin", virtual(async () => {
    await taskGroup(async (tg) => {
      const outer = new CancelScope({ name: "outer" });
      tg.spawn(() => outer.run(() => new CancelScope({ name: "shielded", shield: true }).run(() => new CancelScope({ name: "innermost" }).run(() => sleep(10)))));
      tg.spawn(() => new CancelScope({ name: "other" }).run(() => sleep(10)));
      await sleep(1);
      outer.cancel();
      const tree = taskTree();
      expect(find(tree.main, "outer")).toMatchObject({ cancelled: { kind: "cancel", scope: "outer" }, effectivelyCancelled: true });
      expect(find(tree.main, "shielded")).toMatchObject({ cancelled: null, effectivelyCancelled: false });
      expect(find(tree.main, "other")).toMatchObject({ cancelled: null, effectivelyCancelled: false });
      tg.cancelScope.cancel();
      expect(find(taskTree().main, "other")).toMatchObject({ cancelled: null, effectivelyCancelled: true });
    });
  }));

  it("shows a producer's host task and what its consumer and producer wait in", virtual(async () => {
    await using stream = await produce<number>(async ({ send }) => {
      for (let i = 0; ; i++) await send(i);
    }, { name: "numbers" });
    await stream.receive();
    const text = formatTaskTree();
    expect(text).toMatch(/task "numbers \(host\)"/);
    expect(text).toMatch(/task "numbers" — blocked: wait for a request on producer stream/);
  }));

  it("records since when and where each task blocked, only with debugging on", async () => {
    const body = async (): Promise<TaskTreeTask> => {
      let snapshot: TaskTreeTask | undefined;
      await taskGroup(async (tg) => {
        tg.spawn(async function waitsHere() {
          await new Event({ name: "never" }).wait();
        }, { name: "waiter" });
        await waitAllTasksBlocked();
        await sleep(7);
        snapshot = find(taskTree().main, "waiter") as TaskTreeTask;
        tg.cancelScope.cancel();
      });
      return snapshot!;
    };
    const plain = await run(body, { clock: new MockClock({ autojumpThreshold: 0 }) });
    const debugged = await run(body, { clock: new MockClock({ autojumpThreshold: 0 }), debug: true });
    expect(plain.wait).toEqual({ operation: "wait", object: "Event", name: "never" });
    expect(debugged.wait!.since).toBe(0);
    expect(debugged.wait!.site).toMatch(/waitsHere .*diagnostics\.test\.ts:\d+:\d+/);
    const text = formatTaskTree({ now: 7, main: debugged });
    expect(text).toMatch(/task "waiter" — blocked: wait on Event "never", for 7 ms, at \S*waitsHere/);
  });

  it("with debugging on, shows where a task group that waits for its children was opened", async () => {
    let text = "";
    await run(async () => {
      await taskGroup(async (tg) => {
        tg.spawn(async function opensAGroup() {
          await taskGroup(async (inner) => inner.spawn(() => sleep(10), { name: "napper" }), { name: "inner" });
        }, { name: "opener" });
        await waitAllTasksBlocked();
        text = formatTaskTree();
      });
    }, { clock: new MockClock({ autojumpThreshold: 0 }), debug: true });
    expect(text).toMatch(/task "opener" — blocked: wait for children on task group "inner", for 0 ms, at \S*opensAGroup .*diagnostics\.test\.ts:\d+:\d+/);
  });

  it("handles 100,000 nested scopes without overflowing the stack, in the snapshot and in its text", virtual(async () => {
    const depth = 100_000;
    let tree: ReturnType<typeof taskTree> | undefined;
    const enter = async (level: number): Promise<void> => {
      await new CancelScope({ name: `s${level}` }).run(async () => {
        await null;
        if (level + 1 < depth) return enter(level + 1);
        tree = taskTree();
      });
    };
    await enter(0);
    let scope: TaskTreeScope = tree!.main.scopes[0]!;
    let levels = 1;
    while (scope.scopes.length > 0) {
      scope = scope.scopes[0]!;
      levels++;
    }
    expect(levels).toBe(depth);
    const text = formatTaskTree(tree);
    expect(text.split("\n").length).toBe(depth + 1);
  }), 30_000);
});

describe("formatTaskTree()", () => {
  it("renders the tree as indented text, one line per task and scope", virtual(async () => {
    await taskGroup(async (tg) => {
      const [, receive] = openMemoryChannel<string>(0, { name: "conns" });
      tg.spawn(() => receive.receive(), { name: "listener" });
      tg.spawn(() => moveOnAfter(3000, () => sleep(100_000)), { name: "worker" });
      tg.spawn(() => new Event({ name: "ready" }).wait(), { name: "last" });
      await waitAllTasksBlocked();
      expect(formatTaskTree()).toBe(
        [
          'task "main" — running',
          '└─ task group "server"',
          '   ├─ task "listener" — blocked: receive on channel "conns"',
          '   ├─ task "worker" — blocked: sleep until 100000 ms (in 1.7 min)',
          "   │  └─ cancel scope [deadline in 3.0 s]",
          '   └─ task "last" — blocked: wait on Event "ready"',
        ].join("\n"),
      );
      tg.cancelScope.cancel();
    }, { name: "server" });
  }));
});

describe("names", () => {
  it("are checked like every option", () => {
    expect(() => new Lock({ name: 1 } as never)).toThrow("Lock name must be a string if given; got 1");
    expect(() => new Event(7 as never)).toThrow("Event options must be an object if given; got 7");
    expect(() => openMemoryChannel(0, { name: false } as never)).toThrow("openMemoryChannel() name must be a string if given");
    expect(() => new CancelScope({ name: null } as never)).toThrow("CancelScope name must be a string if given");
    expect(new CancelScope({ name: "x" }).name).toBe("x");
  });
});

describe("instruments", () => {
  it("are told about tasks, blocks and scopes as they happen, until removed", virtual(async () => {
    const events: string[] = [];
    const remove = addInstrument({
      taskSpawned: (task) => events.push(`spawned ${task.name}`),
      taskStarted: (task) => events.push(`started ${task.name}`),
      taskExited: (task) => events.push(`exited ${task.name}`),
      taskBlocked: (block) => events.push(`blocked ${block.name} in ${block.operation}${block.target ? ` ${block.target}` : ""}`),
      taskUnblocked: (block) => events.push(`unblocked ${block.name}`),
      scopeEntered: (scope) => events.push(`entered ${scope.type} ${scope.name}`),
      scopeCancelled: (scope) => events.push(`cancelled ${scope.type} ${scope.name} (${scope.origin?.kind})`),
      scopeExited: (scope) => events.push(`exited ${scope.type} ${scope.name}`),
    });
    try {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await new CancelScope({ name: "timeout", deadline: now() + 5 }).run(() => sleep(10));
        }, { name: "child" });
      }, { name: "g" });
    } finally {
      remove();
    }
    await taskGroup(async (tg) => tg.spawn(() => sleep(1), { name: "unseen" }));
    expect(events).toEqual([
      "entered group g",
      "spawned child",
      "started child",
      "entered scope timeout",
      "blocked child in sleep",
      "blocked main in wait for children g",
      "cancelled scope timeout (deadline)",
      "unblocked child",
      "exited scope timeout",
      "exited child",
      "unblocked main",
      "exited group g",
    ]);
  }));

  it("are told what a task blocks in: the operation, the object and its name, a sleep's end", virtual(async () => {
    const blocks: unknown[] = [];
    const remove = addInstrument({ taskBlocked: (block) => void blocks.push({ ...block, id: undefined }) });
    try {
      const [send, receive] = openMemoryChannel<number>(0, { name: "jobs" });
      await taskGroup(async (tg) => {
        tg.spawn(() => receive.receive(), { name: "r" });
        tg.spawn(async () => {
          await sleep(5);
          await send.send(1);
        }, { name: "s" });
        tg.spawn(() => moveOnAfter(1, () => sleepForever()), { name: "f" });
        tg.spawn(async () => {
          const parked = parkCurrentTask();
          parked.wake();
          await parked.promise;
        }, { name: "p" });
      });
    } finally {
      remove();
    }
    const byName = (a: unknown, b: unknown): number => String((a as { name: string }).name).localeCompare((b as { name: string }).name);
    expect(blocks.sort(byName)).toEqual([
      { id: undefined, name: "main", operation: "wait for children", object: "task group" },
      { id: undefined, name: "f", operation: "sleep", until: Infinity },
      { id: undefined, name: "p", operation: "parked", object: "parkCurrentTask()" },
      { id: undefined, name: "r", operation: "receive", object: "channel", target: "jobs" },
      { id: undefined, name: "s", operation: "sleep", until: 5 },
    ].sort(byName));
  }));

  it("give tasks ids, with the id of the task that spawned them", virtual(async () => {
    const spawned: Array<{ id: number; name: string; parent: number | undefined }> = [];
    const remove = addInstrument({ taskSpawned: (task) => void spawned.push(task) });
    try {
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await taskGroup(async (inner) => inner.spawn(() => checkpoint(), { name: "b" }));
        }, { name: "a" });
      });
    } finally {
      remove();
    }
    const [a, b] = spawned;
    expect(a!.name).toBe("a");
    expect(b).toMatchObject({ name: "b", parent: a!.id });
    expect(new Set(spawned.map((task) => task.id)).size).toBe(2);
  }));

  it("are removed, with a warning, when they throw, and the program goes on", virtual(async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on("warning", onWarning);
    let calls = 0;
    const remove = addInstrument({
      taskBlocked: () => {
        calls++;
        throw new Error("broken instrument");
      },
    });
    try {
      await sleep(1);
      await sleep(1);
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      remove();
      process.off("warning", onWarning);
    }
    expect(calls).toBe(1);
    expect(warnings).toEqual(["a Quartet instrument threw in taskBlocked and was removed: broken instrument"]);
    expect(() => addInstrument(null as never)).toThrow(TypeError);
  }));
  it("are told which group a task joins and how, what a task or scope threw, and a cancellation's reason", async () => {
    const events: unknown[] = [];
    const remove = addInstrument({
      taskSpawned: (task) => void events.push(["spawned", task.name, task.group, task.via]),
      taskExited: (task) => void events.push(["exited", task.name, "error" in task ? task.error : "returned"]),
      scopeEntered: (scope) => void events.push(["entered", scope.name, scope.id]),
      scopeCancelled: (scope) => void events.push(["cancelled", scope.name, scope.origin?.kind, "reason" in scope ? scope.reason : "no reason"]),
      scopeExited: (scope) => void events.push(["exited", scope.name, "error" in scope ? scope.error : "returned"]),
    });
    const boom = new Error("boom");
    try {
      await run(async function main() {
        await taskGroup(async (tg) => {
          await tg.start(async (status: TaskStatus) => status.started(), { name: "service" });
          tg.spawn(async () => {
            throw undefined; // a task that throws undefined threw
          }, { name: "thrower" });
        }, { name: "g" }).catch(() => {});
        await new CancelScope({ name: "s" }).run(async (scope) => {
          scope.cancel("enough");
          await checkpoint();
        });
        await new CancelScope({ name: "failing" }).run(() => {
          throw boom;
        });
      }, { clock: new MockClock({ autojumpThreshold: 0 }) });
    } catch (error) {
      expect(error).toBe(boom);
    } finally {
      remove();
    }
    const group = (events.find((event) => (event as unknown[])[0] === "entered" && (event as unknown[])[1] === "g") as unknown[])[2];
    expect(events).toEqual([
      ["spawned", "main", undefined, undefined],
      ["entered", "g", group],
      ["spawned", "service", group, "start"],
      ["exited", "service", "returned"],
      ["spawned", "thrower", group, "spawn"],
      ["exited", "thrower", undefined],
      ["cancelled", "g", "failure", "no reason"], // the reason of a failure is its error: here undefined
      ["exited", "g", undefined],
      ["entered", "s", expect.any(Number)],
      ["cancelled", "s", "cancel", "enough"],
      ["exited", "s", "returned"],
      ["entered", "failing", expect.any(Number)],
      ["exited", "failing", boom],
      ["exited", "main", boom],
    ]);
  });

  it("run every task's function inside wrapTask, and every scope's and group's body inside wrapScope, so a context of their own follows the task tree", async () => {
    const where = new AsyncLocalStorage<string>();
    const seen: string[] = [];
    const note = (what: string): void => void seen.push(`${what} in ${where.getStore() ?? "nothing"}`);
    const remove = addInstrument({
      wrapTask: (task, enter) => where.run(`task ${task.name}`, enter),
      wrapScope: (scope, enter) => where.run(`${scope.type} ${scope.name}`, enter),
    });
    try {
      await run(async function main() {
        note("main");
        await taskGroup(async (tg) => {
          note("body");
          tg.spawn(async () => {
            await sleep(1);
            note("a after a sleep");
            await new CancelScope({ name: "inner" }).run(async () => {
              await checkpoint();
              note("a's scope");
            });
            note("a after its scope");
          }, { name: "a" });
          await tg.start(async (status: TaskStatus) => {
            note("service");
            status.started();
            await sleep(2);
            note("service after started()");
          }, { name: "service" });
          const numbers = await produce(async (ctx) => {
            note("producer");
            await ctx.send(1);
          }, { name: "numbers" });
          for await (const _ of numbers) note("consumer");
        }, { name: "g" });
        note("main after the group");
      }, { clock: new MockClock({ autojumpThreshold: 0 }) });
    } finally {
      remove();
    }
    await taskGroup(async (tg) => tg.spawn(async () => note("after removal")));
    expect(seen.sort()).toEqual([
      "a after a sleep in task a",
      "a after its scope in task a",
      "a's scope in scope inner",
      "after removal in nothing",
      "body in group g",
      "consumer in group g",
      "main after the group in task main",
      "main in task main",
      "producer in task numbers",
      "service after started() in task service",
      "service in task service",
    ]);
  });

  it("that wrap are removed, with a warning, when they throw or do not call enter(); the code runs once all the same", virtual(async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on("warning", onWarning);
    const removers = [
      addInstrument({ wrapTask: () => {} }),
      addInstrument({
        wrapTask: (_task, enter) => {
          enter();
          enter(); // a second call does nothing
          throw new Error("after enter");
        },
      }),
      addInstrument({
        wrapScope: () => {
          throw new Error("before enter");
        },
      }),
    ];
    let runs = 0;
    let caught: unknown;
    try {
      await taskGroup(async (tg) => {
        tg.spawn(async () => void runs++, { name: "once" });
        tg.spawn(async () => {
          throw new TypeError("the task's own failure");
        });
      }, { name: "g" }).catch((error: unknown) => (caught = error));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      for (const remove of removers) remove();
      process.off("warning", onWarning);
    }
    expect(runs).toBe(1);
    expect(caught).toBeInstanceOf(TypeError); // the task's error is the group's, untouched by the instruments
    expect(warnings.sort()).toEqual([
      "a Quartet instrument returned without calling enter() in wrapTask and was removed",
      "a Quartet instrument threw in wrapScope and was removed: before enter",
      "a Quartet instrument threw in wrapTask and was removed: after enter",
    ]);
  }));
});
