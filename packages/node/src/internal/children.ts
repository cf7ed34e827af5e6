/**
 * The child processes `runProcess` started, as something to signal — the
 * child, or with a process group of its own the whole group — and the rule
 * that none of them outlives this process: while any may be alive, an 'exit'
 * hook sends it SIGKILL. That covers the exits that skip cleanup (a second
 * Ctrl-C under `runMain`, `process.exit()`, an uncaught exception); a process
 * killed outright (SIGKILL, or a signal it does not handle) runs no hook.
 *
 * @module
 */

import type { ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { sleepReal, waitForEvent } from "./events.js";

/** What a child's run signals, and whether any of it is still alive. */
export class ChildTarget {
  readonly child: ChildProcess;
  /** Whether the child leads a process group of its own, which is signalled as a whole. */
  readonly group: boolean;

  constructor(child: ChildProcess, group: boolean) {
    this.child = child;
    this.group = group;
    if (child.pid === undefined) return; // it never started
    track(this);
    // Once the child is reaped its pid may be reused: from then on only its group may be signalled.
    if (!group) child.once("exit", () => untrack(this));
  }

  /** Whether the child has exited (and been reaped). */
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Whether the child, or with a group anything in it, is still alive. */
  alive(): boolean {
    return !this.exited || (this.group && groupAlive(this.child.pid!));
  }

  /** Sends `signal` to the child or its group; false if nothing received it. */
  kill(signal: NodeJS.Signals | number): boolean {
    if (!this.group) return this.child.kill(signal);
    try {
      process.kill(-this.child.pid!, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Waits (a checkpoint) until the child has exited and, with a group, until nothing in it is alive. */
  async gone(): Promise<void> {
    if (!this.exited) await waitForEvent(this.child, ["exit"]);
    while (this.group && groupAlive(this.child.pid!)) await sleepReal(GROUP_POLL_MS);
  }

  /** Nothing of it is alive any more (or what is left is no longer ours to kill): the exit hook forgets it. */
  release(): void {
    untrack(this);
  }
}

/** How often a group that has outlived its leader is looked at again: no event says when its last member exits. */
const GROUP_POLL_MS = 10;

/**
 * Whether any process of the group `pgid` is alive. On Linux, members that
 * have exited but were not yet reaped (zombies: a grandchild whose new parent
 * is an init that does not reap) are not counted, though `kill()` still finds them.
 */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // ESRCH: nobody left
  }
  return process.platform === "linux" ? hasLivingMember(pgid) : true;
}

function hasLivingMember(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return true;
  }
  for (const entry of entries) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue; // not a pid
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "latin1");
    } catch {
      continue; // it exited meanwhile
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses, so parse from the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(pgrp) === pgid && state !== "Z") return true;
  }
  return false;
}

// ------------------------------------------------------------------- the exit hook

const live = new Set<ChildTarget>();

function killAll(): void {
  for (const target of live) target.kill("SIGKILL");
}

function track(target: ChildTarget): void {
  if (live.size === 0) process.on("exit", killAll);
  live.add(target);
}

function untrack(target: ChildTarget): void {
  if (live.delete(target) && live.size === 0) process.off("exit", killAll);
}
