/**
 * Pinning a process to one core with `taskset`, so that a server and the load
 * generator measuring it do not compete for a core (server scenarios: the
 * server on core 0, the load on core 1). Where the machine has one core, or no
 * `taskset`, processes run unpinned, and `PINNED` says so.
 */
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Whether processes are pinned: two cores or more, and `taskset` present. */
export const PINNED: boolean = cpus().length >= 2 && hasTaskset();

/** The command line that runs `command args` on `core` (as it is, unpinned, if pinning is not possible). */
export function onCore(core: number, command: string, args: readonly string[]): [string, string[]] {
  return PINNED ? ["taskset", ["-c", String(core), command, ...args]] : [command, [...args]];
}
