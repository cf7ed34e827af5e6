/**
 * What `serveHttp` and `serveTcp` share: listening, a task per connection or
 * request, and the shutdown (stop accepting, a grace period, cancel, close).
 *
 * @module
 */

import type { AddressInfo, Server } from "node:net";
import { CancelScope, Event, isCancelled, moveOnAfter, taskGroup, type TaskGroup, type TaskStatus } from "@quartet/core";
import { cancelWithOrigin } from "@quartet/core/lowlevel";
import { waitForEvent } from "./events.js";
import { describe, requireOptionalDuration, requireOptionalFunction, requireOptionalString, requirePort, requireObject } from "./validate.js";

/** The options both servers take. */
export interface ListenOptions {
  port: number;
  host?: string;
  gracePeriod?: number;
}

/** Checks the options both servers take; `what` names the function in messages. */
export function checkListenOptions(options: unknown, what: string): asserts options is ListenOptions {
  requireObject(options, `${what} options`);
  const { port, host, gracePeriod, onError } = options as ListenOptions & { onError?: unknown };
  requirePort(port, `${what} port`);
  requireOptionalString(host, `${what} host`);
  requireOptionalDuration(gracePeriod, `${what} gracePeriod`);
  requireOptionalFunction(onError, `${what} onError`);
}

/**
 * Spawns a handler task into the server's handler group and returns true; or
 * returns false if the server no longer accepts work (it is shutting down), in
 * which case the caller turns the connection or request away.
 */
export type SpawnHandler = (fn: () => Promise<void>, name: string) => boolean;

/**
 * Runs `server` until the calling task is cancelled or the server fails.
 * `what` names the server and `handled` what its handlers handle ("requests",
 * "connections"), for the task tree. `accept(spawn)` installs the server's listeners before it starts listening;
 * `closeAll()` closes every connection that is left at the end.
 *
 * Handlers run in a task group behind a shield, so that cancelling the server
 * does not reach them at once: on cancellation the server stops accepting,
 * gives them `gracePeriod` ms to finish, then cancels them, waits for them, and
 * closes every connection. A failure (of the server, or an error a handler lets
 * out) cancels them at once and is thrown. The shutdown's cancellation has
 * the origin kind "shutdown".
 */
export async function serve(
  what: string,
  handled: string,
  server: Server,
  options: ListenOptions,
  status: TaskStatus<AddressInfo>,
  accept: (spawn: SpawnHandler) => void,
  closeAll: () => void,
): Promise<never> {
  const handlers = new CancelScope({ shield: true, name: `${what} ${handled}` });
  let group: TaskGroup | null = null;
  let accepting = true;
  const opened = new Event({ name: `${what} listening` });
  const stopping = new Event({ name: `${what} shutdown` });
  const handlersDone = new Event({ name: `${what} ${handled} done` });
  accept((fn, name) => {
    if (group === null || !accepting) return false;
    group.spawn(fn, { name });
    return true;
  });
  try {
    await taskGroup(async (tg) => {
      tg.spawn(
        async () => {
          try {
            await handlers.run(() =>
              taskGroup(
                async (handlerGroup) => {
                  group = handlerGroup;
                  opened.set();
                  try {
                    await stopping.wait();
                  } finally {
                    group = null; // from here on, new work is turned away; the group waits for what runs
                  }
                },
                { name: `${what} ${handled}` },
              ),
            );
          } finally {
            handlersDone.set();
          }
        },
        { name: `${what} handlers` },
      );
      let failed = false;
      try {
        await opened.wait();
        status.started(await listen(server, options));
        const { args } = await waitForEvent(server, ["error"]);
        throw args[0];
      } catch (error) {
        failed = !isCancelled(error);
        throw error;
      } finally {
        accepting = false;
        server.close(); // stop accepting (an HTTP server also closes its idle connections)
        stopping.set();
        const grace = options.gracePeriod ?? 0;
        if (!failed && grace > 0) await moveOnAfter(grace, () => handlersDone.wait(), { shield: true });
        cancelWithOrigin(handlers, "shutdown", `${what}: the server is shutting down`);
      }
    }, { name: what });
  } finally {
    closeAll();
  }
  throw new Error(`unreachable: ${what} returned`);
}

/** Starts `server` listening, and waits until it does; returns the bound address. A checkpoint. */
async function listen(server: Server, { port, host }: ListenOptions): Promise<AddressInfo> {
  server.listen(port, host);
  const { name, args } = await waitForEvent(server, ["listening", "error"]);
  if (name === "error") throw args[0];
  return server.address() as AddressInfo;
}

/** The default `onError`: print the failure with what it happened to. */
export function printError(where: string, error: unknown): void {
  try {
    console.error(`${where} failed:`, error instanceof Error ? error : describe(error));
  } catch {
    console.error(`${where} failed with a value that cannot be shown`); // a Proxy whose traps throw
  }
}
