/**
 * The task tree: a plain-data snapshot of a run — its tasks, the scopes and
 * task groups they entered, and what each blocked task waits in — and its
 * rendering as text.
 *
 * Built from the cancel-node tree: every node knows the task that entered it,
 * its child nodes and its waiters; a task group's node also knows the tasks
 * spawned into it, and a task being started has a node of its own. Both the
 * walk and the rendering use explicit stacks, so a tree as deep as the
 * runtime allows (100,000 nested scopes) does not overflow the call stack.
 *
 * @module
 */

import type { CancelNode } from "./cancel-node.js";
import type { Task } from "./context.js";
import type { CancelOrigin } from "./errors.js";
import { blockRecords, describeWaiter, type Waiter } from "./park.js";
import type { Runtime } from "./runtime.js";

/**
 * What a blocked task waits in.
 *
 * @example
 * ```ts
 * import { taskTree, type TaskTreeWait } from "@quartet/core/lowlevel";
 * const wait: TaskTreeWait | undefined = taskTree().main.wait; // undefined: main is running
 * ```
 */
export interface TaskTreeWait {
  /** `sleep`, `send`, `receive`, `acquire`, `wait`, `abortable`, `wait for children`, `wait for started()`… */
  readonly operation: string;
  /** The kind of object waited on: `channel`, `Lock`, `Event`, `task group`… */
  readonly object?: string;
  /** The name given to that object. */
  readonly name?: string;
  /** For a sleep: until when, on the runtime clock (`Infinity` for `sleepForever()`). */
  readonly until?: number;
  /** With debugging on: since when (runtime clock). */
  readonly since?: number;
  /** With debugging on: where the user's code called the operation (the first frame outside Quartet). */
  readonly site?: string;
}

/**
 * A task in the tree.
 *
 * @example
 * ```ts
 * import { taskTree, type TaskTreeTask } from "@quartet/core/lowlevel";
 * const main: TaskTreeTask = taskTree().main;
 * console.log(main.name, main.state); // "<root>" "running"
 * ```
 */
export interface TaskTreeTask {
  readonly type: "task";
  readonly name: string;
  /** `blocked` in a Quartet operation (see `wait`), else `running` (running, ready to run, or awaiting a foreign promise). */
  readonly state: "running" | "blocked";
  /** True for a task passed to `start()` that has not called `started()` yet: it shows under the task that started it. */
  readonly starting: boolean;
  readonly wait?: TaskTreeWait;
  /** The scopes and task groups the task entered (outermost first). */
  readonly scopes: readonly TaskTreeScope[];
  /** Tasks it is starting with `start()`, outside any scope of its own. */
  readonly tasks: readonly TaskTreeTask[];
}

/**
 * A cancel scope or task group in the tree.
 *
 * @example
 * ```ts
 * import { taskTree, type TaskTreeScope } from "@quartet/core/lowlevel";
 * const scopes: readonly TaskTreeScope[] = taskTree().main.scopes;
 * ```
 */
export interface TaskTreeScope {
  readonly type: "scope" | "group";
  readonly name?: string;
  /** Absolute, on the runtime clock; `Infinity` for none. */
  readonly deadline: number;
  readonly shield: boolean;
  /** Why the scope itself was cancelled, or `null`. */
  readonly cancelled: CancelOrigin | null;
  /** Whether code in the scope sees a cancellation (its own, or an enclosing one not kept out by a shield). */
  readonly effectivelyCancelled: boolean;
  /** Scopes and groups nested in it by the same task. */
  readonly scopes: readonly TaskTreeScope[];
  /** For a group: its tasks (spawned, and started ones that called `started()`); and tasks being started from inside the scope. */
  readonly tasks: readonly TaskTreeTask[];
}

/**
 * A snapshot of a run, from `taskTree()`.
 *
 * @example
 * ```ts
 * import { taskTree, type TaskTree } from "@quartet/core/lowlevel";
 * const tree: TaskTree = taskTree();
 * console.log(tree.now >= 0, tree.main.type); // true "task"
 * ```
 */
export interface TaskTree {
  /** When the snapshot was taken, on the runtime clock. */
  readonly now: number;
  /** The run's main task (outside any run: the implicit root). */
  readonly main: TaskTreeTask;
}

interface MutableTask {
  type: "task";
  name: string;
  state: "running" | "blocked";
  starting: boolean;
  wait?: TaskTreeWait;
  scopes: TaskTreeScope[];
  tasks: TaskTreeTask[];
}

interface MutableScope {
  type: "scope" | "group";
  name?: string;
  deadline: number;
  shield: boolean;
  cancelled: CancelOrigin | null;
  effectivelyCancelled: boolean;
  scopes: TaskTreeScope[];
  tasks: TaskTreeTask[];
}

/** A group node's owner (the task group) and a start node's owner (the task's start status), seen from here. */
interface GroupOwner {
  spawned(): Task[];
}
interface StartOwner {
  readonly moved: boolean;
  readonly caller: Task;
}

/** A snapshot of the tree under `root` (a runtime's root node). */
export function taskTreeOf(root: CancelNode, runtime: Runtime): TaskTree {
  // Every node, and the waiter each blocked task waits in.
  const waiterOf = new Map<Task, Waiter<any>>();
  const all: CancelNode[] = [root];
  for (let i = 0; i < all.length; i++) {
    const node = all[i]!;
    for (const waiter of node.waiters()) for (const task of waiter.tasks()) if (!waiterOf.has(task)) waiterOf.set(task, waiter);
    for (const child of node.childNodes()) all.push(child);
  }

  const makeTask = (task: Task, starting: boolean): MutableTask => {
    const out: MutableTask = { type: "task", name: task.name, state: task.blocks > 0 ? "blocked" : "running", starting, scopes: [], tasks: [] };
    const wait = waitOf(task, waiterOf.get(task));
    if (wait !== undefined) out.wait = wait;
    return out;
  };

  const main = makeTask(root.task, false);
  // Work: the contents of `node` as seen by `task`, to be put in `out`.
  const work: Array<{ node: CancelNode; task: Task; out: { scopes: TaskTreeScope[]; tasks: TaskTreeTask[] } }> = [
    { node: root, task: root.task, out: main },
  ];
  while (work.length > 0) {
    const { node, task, out } = work.pop()!;
    const pushed: typeof work = [];
    // Tasks placed elsewhere, or already placed here: not to be shown again as tasks of their own.
    const placed = new Set<Task>([task]);
    if (node.kind === "group" && node.task === task) {
      // The group as its body sees it: its tasks.
      for (const child of (node.owner as GroupOwner).spawned()) {
        placed.add(child);
        const childOut = makeTask(child, false);
        out.tasks.push(childOut);
        pushed.push({ node, task: child, out: childOut });
      }
    } else if (node.kind === "group") {
      for (const child of (node.owner as GroupOwner).spawned()) placed.add(child);
    }
    for (const child of node.childNodes()) {
      if (child.kind === "start") {
        const owner = child.owner as StartOwner;
        const belongsHere = owner.moved ? node.kind === "group" && node.task === task : owner.caller === task;
        if (!belongsHere) continue;
        const startedOut = makeTask(child.task, !owner.moved);
        out.tasks.push(startedOut);
        pushed.push({ node: child, task: child.task, out: startedOut });
      } else if (child.task !== task && child.task.node === node && !placed.has(child.task)) {
        // A task that starts here but belongs to no group (a producer's host task): shown under the
        // task whose code created it, with the scopes it entered.
        placed.add(child.task);
        const hostOut = makeTask(child.task, false);
        out.tasks.push(hostOut);
        pushed.push({ node, task: child.task, out: hostOut });
      } else if (child.task === task && (child.kind === "scope" || child.kind === "group")) {
        const scopeOut: MutableScope = {
          type: child.kind,
          deadline: child.deadline,
          shield: child.shield,
          cancelled: child.cancelled?.origin ?? null,
          effectivelyCancelled: child.effective !== null,
          scopes: [],
          tasks: [],
        };
        if (child.name !== undefined) scopeOut.name = child.name;
        out.scopes.push(scopeOut);
        pushed.push({ node: child, task, out: scopeOut });
      }
    }
    // Stack order: the first pushed is worked on first, so that output lists stay in order
    // (they are filled above; the work only fills the children's own lists).
    for (let i = pushed.length - 1; i >= 0; i--) work.push(pushed[i]!);
  }
  return { now: runtime.now(), main };
}

function waitOf(task: Task, waiter: Waiter<any> | undefined): TaskTreeWait | undefined {
  if (task.blocks === 0) return undefined;
  let what;
  let until: number | undefined;
  let record;
  if (waiter !== undefined) {
    ({ what, until } = describeWaiter(waiter));
    record = blockRecords.get(waiter);
  } else if (task.blockedIn !== null) {
    what = task.blockedIn;
    record = blockRecords.get(task);
  } else {
    return { operation: "wait" };
  }
  const wait: { operation: string; object?: string; name?: string; until?: number; since?: number; site?: string } = { operation: what.operation };
  if (what.object !== undefined) wait.object = what.object;
  if (what.name !== undefined) wait.name = what.name;
  if (until !== undefined) wait.until = until;
  if (record !== undefined) {
    wait.since = record.since;
    const site = record.site.text;
    if (site !== undefined) wait.site = site;
  }
  return wait;
}

// ------------------------------------------------------------------- text

/** Milliseconds for a person: "250 ms", "3.2 s", "4 min". */
function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

function describeWait(wait: TaskTreeWait, now: number): string {
  let text = wait.operation;
  if (wait.object !== undefined) text += ` on ${wait.object}${wait.name === undefined ? "" : ` "${wait.name}"`}`;
  if (wait.until !== undefined) text += wait.until === Infinity ? " forever" : ` until ${Math.round(wait.until)} ms (${wait.until >= now ? `in ${duration(wait.until - now)}` : "due"})`;
  if (wait.since !== undefined) text += `, for ${duration(now - wait.since)}`;
  if (wait.site !== undefined) text += `, at ${wait.site}`;
  return text;
}

function describeOrigin(origin: CancelOrigin): string {
  if (origin.kind === "failure") return `because task "${origin.task}" failed`;
  if (origin.kind === "deadline") return "deadline passed";
  return origin.kind;
}

function taskLine(task: TaskTreeTask, now: number): string {
  const state = task.wait !== undefined ? `blocked: ${describeWait(task.wait, now)}` : task.state;
  return `task "${task.name}"${task.starting ? " (starting)" : ""} — ${state}`;
}

function scopeLine(scope: TaskTreeScope, now: number): string {
  let text = scope.type === "group" ? "task group" : "cancel scope";
  if (scope.name !== undefined) text += ` "${scope.name}"`;
  const notes: string[] = [];
  if (scope.deadline !== Infinity) notes.push(`deadline ${scope.deadline >= now ? `in ${duration(scope.deadline - now)}` : "passed"}`);
  if (scope.shield) notes.push("shielded");
  if (scope.cancelled !== null) notes.push(`cancelled (${describeOrigin(scope.cancelled)})`);
  else if (scope.effectivelyCancelled) notes.push("cancelled from outside");
  return notes.length === 0 ? text : `${text} [${notes.join(", ")}]`;
}

/** Beyond this depth lines are no longer indented further; they say their depth instead. */
const MAX_INDENT = 40;

/** Renders a tree as indented text, one line per task and scope. */
export function formatTree(tree: TaskTree): string {
  const lines: string[] = [];
  type Item = TaskTreeTask | TaskTreeScope;
  const stack: Array<{ item: Item; prefix: string; last: boolean; depth: number }> = [{ item: tree.main, prefix: "", last: true, depth: 0 }];
  while (stack.length > 0) {
    const { item, prefix, last, depth } = stack.pop()!;
    const text = item.type === "task" ? taskLine(item, tree.now) : scopeLine(item, tree.now);
    const deep = depth > MAX_INDENT ? `[depth ${depth}] ` : "";
    lines.push(depth === 0 ? text : `${prefix}${last ? "└─ " : "├─ "}${deep}${text}`);
    const childPrefix = depth === 0 || depth >= MAX_INDENT ? prefix : `${prefix}${last ? "   " : "│  "}`;
    const children: Item[] = [...item.scopes, ...item.tasks];
    for (let i = children.length - 1; i >= 0; i--) stack.push({ item: children[i]!, prefix: childPrefix, last: i === children.length - 1, depth: depth + 1 });
  }
  return lines.join("\n");
}

/** Whether any task of the tree is blocked. */
export function anyBlocked(tree: TaskTree): boolean {
  const stack: Array<TaskTreeTask | TaskTreeScope> = [tree.main];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item.type === "task" && item.state === "blocked") return true;
    stack.push(...item.scopes, ...item.tasks);
  }
  return false;
}

/**
 * Code outside any run() that waits on a Quartet primitive nothing will ever
 * wake leaves Node about to exit (with code 13 for a top-level await): say which
 * tasks wait in what, once, before it does.
 */
export function watchImplicitRoot(root: CancelNode): void {
  if (typeof process === "undefined" || typeof process.once !== "function") return;
  process.once("beforeExit", () => {
    const tree = taskTreeOf(root, root.runtime!);
    if (!anyBlocked(tree)) return;
    process.stderr.write(
      "Quartet: deadlock outside any run(): Node is about to exit while these tasks wait in Quartet operations that nothing can wake:\n" +
        `${formatTree(tree)}\n`,
    );
  });
}
