// A bounded soak of serveHttp (about a second and a half): many concurrent requests on keep-alive
// connections — quick ones, slow ones that hit their deadline (some ignoring their signal), uploads, streamed
// replies — a share of them aborted by their clients at random moments. Every handler that started must have
// finished its cleanup, nothing may be reported as a failure, and the server must close cleanly (the setup
// file checks that no socket, timer or task is left behind).
import { Agent, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { expect, it } from "vitest";
import { sleep, taskGroup } from "@quartet/core";
import { serveHttp, toWritable } from "../src/index.js";
import { LOCAL } from "./http-helpers.js";
import { random } from "./helpers.js";

const TRAFFIC_MS = 1200;
const CLIENTS = 24;
const REQUEST_TIMEOUT = 60;

type Outcome = number | "aborted";

interface Plan {
  path: string;
  /** Sizes of the body's chunks (a POST), sent with pauses in between. */
  body?: number[];
  /** Abort the request this many ms after it was sent. */
  abortAfter?: number;
}

/** One request; settles with the status, or "aborted" once the client has given up on it. */
function exchange(port: number, agent: Agent, plan: Plan): Promise<Outcome> {
  return new Promise((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      resolve(outcome);
    };
    const request = httpRequest({ host: "127.0.0.1", port, path: plan.path, method: plan.body ? "POST" : "GET", agent }, (response) => {
      response.resume();
      response.on("end", () => settle(response.statusCode!));
      response.on("error", () => settle("aborted"));
      response.on("close", () => settle(response.complete ? response.statusCode! : "aborted"));
    });
    request.on("error", () => settle("aborted"));
    request.on("close", () => timers.push(setTimeout(() => settle("aborted"), 0)));
    if (plan.abortAfter !== undefined) timers.push(setTimeout(() => request.destroy(), plan.abortAfter));
    if (plan.body === undefined) {
      request.end();
      return;
    }
    let at = 0;
    const sendNext = (): void => {
      if (request.destroyed) return;
      if (at === plan.body!.length) return void request.end();
      request.write(Buffer.alloc(plan.body![at++]!, "q"));
      timers.push(setTimeout(sendNext, 5));
    };
    sendNext();
  });
}

it("soak: many concurrent requests, some aborted, some past their deadline; every handler's cleanup runs once, nothing is reported, the server closes cleanly", async () => {
  const next = random(20_261_201);
  let started = 0;
  let cleanedUp = 0;
  const errors: unknown[] = [];
  const outcomes = new Map<string, number>();
  const count = (key: string): void => void outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });

  await taskGroup(async (tg) => {
    const { port } = await tg.start<AddressInfo>((status) =>
      serveHttp(
        async (request, response) => {
          started++;
          try {
            const [, route, arg] = request.url!.split("/");
            const ms = Number(arg ?? 0);
            if (route === "sleep") await sleep(ms); // woken by the cancellation
            else if (route === "foreign") await delay(ms); // ignores its signal
            else if (route === "upload") {
              let bytes = 0;
              for await (const chunk of request) bytes += (chunk as Buffer).length;
              response.setHeader("x-bytes", bytes);
            } else if (route === "stream") {
              await using out = toWritable<string>(response);
              for (let i = 0; i < 5; i++) {
                await out.send(`part ${i}\n`);
                await sleep(ms / 5);
              }
            }
            response.end("ok\n");
          } finally {
            cleanedUp++;
          }
        },
        { ...LOCAL, requestTimeout: REQUEST_TIMEOUT, onError: (error) => errors.push(error) },
        status,
      ),
    );

    const stopAt = performance.now() + TRAFFIC_MS;
    const client = async (): Promise<void> => {
      while (performance.now() < stopAt) {
        const roll = next();
        const ms = Math.floor(next() * 2 * REQUEST_TIMEOUT); // half of them past the deadline
        const plan: Plan =
          roll < 0.2
            ? { path: "/quick" }
            : roll < 0.4
              ? { path: `/sleep/${ms}` }
              : roll < 0.6
                ? { path: `/foreign/${ms}` }
                : roll < 0.8
                  ? { path: "/upload", body: Array.from({ length: 1 + Math.floor(next() * 15) }, () => 1 + Math.floor(next() * 4096)) }
                  : { path: `/stream/${ms}` };
        if (next() < 0.25) plan.abortAfter = Math.floor(next() * REQUEST_TIMEOUT);
        const outcome = await exchange(port, agent, plan);
        count(String(outcome));
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, client));
    tg.cancelScope.cancel();
  });
  agent.destroy();

  const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
  expect(total).toBeGreaterThan(200);
  expect(outcomes.get("200")).toBeGreaterThan(20);
  expect(outcomes.get("503")).toBeGreaterThan(20); // deadlines
  expect(outcomes.get("aborted")).toBeGreaterThan(20);
  expect([...outcomes.keys()].sort()).toEqual(["200", "503", "aborted"]);
  expect(started).toBeGreaterThan(200);
  expect(cleanedUp).toBe(started);
  expect(errors).toEqual([]);
});
