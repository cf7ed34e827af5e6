// Helpers shared by the tests: temporary directories, pairs of connected sockets, and whether a process lives.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, connect, type Socket } from "node:net";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh temporary directory, removed by the returned disposer. */
export async function temporaryDirectory(): Promise<{ path: string } & AsyncDisposable> {
  const path = await mkdtemp(join(tmpdir(), "quartet-node-test-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

/** Two connected TCP sockets on 127.0.0.1 (the listening server is closed once they are connected). */
export async function socketPair(): Promise<[Socket, Socket] & Disposable> {
  const server = createServer({ allowHalfOpen: true });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const client = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
  const [[serverSide]] = await Promise.all([accepted, once(client, "connect")]);
  server.close();
  const pair = [client, serverSide] as [Socket, Socket] & Disposable;
  pair[Symbol.dispose] = () => {
    client.destroy();
    serverSide.destroy();
  };
  return pair;
}

/** A small deterministic pseudo-random generator (mulberry32), for tests that shuffle timings reproducibly. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Whether a process with this pid is still running (signal 0 only checks). A zombie — a process that has
 * exited but was not reaped, as grandchildren whose new parent is an init that does not reap stay — is not.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return process.platform !== "linux";
  }
}

/** Waits until `pid` is no longer alive (a killed process takes a moment to die), for at most a second. */
export async function dead(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return !alive(pid);
}
