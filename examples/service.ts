// A service and a client of it in one program. The service's start() returns
// once it listens, so the client never races it; Ctrl-C (SIGINT) cancels both,
// their cleanup runs, and the program exits with 130.
// Run it with `npx --yes pnpm@12 tsx examples/service.ts`; docs/services.md explains it.
import type { AddressInfo } from "node:net";
import { currentSignal, sleep, taskGroup, type TaskStatus } from "@quartet/core";
import { runMain, serveHttp } from "@quartet/node";

// #region service
/** A greeting service. `start()` returns its address once it listens; it serves until cancelled. */
async function greetingService(status: TaskStatus<AddressInfo>): Promise<void> {
  let visits = 0;
  try {
    await serveHttp(
      async (request, response) => {
        const name = new URL(request.url ?? "/", "http://localhost").searchParams.get("name") ?? "stranger";
        visits++;
        response.setHeader("content-type", "text/plain; charset=utf-8");
        response.end(`hello, ${name} (visit ${visits})\n`);
      },
      { port: 0, host: "127.0.0.1", requestTimeout: 5000, gracePeriod: 1000 },
      status, // serveHttp calls status.started(address) once it listens
    );
  } finally {
    console.log(`service: stopped after ${visits} visits`);
  }
}
// #endregion

// #region client
/** A client that uses the service every 200 ms until it is cancelled. */
async function client(url: string): Promise<void> {
  try {
    for (;;) {
      const response = await fetch(`${url}/?name=client`, { signal: currentSignal() });
      console.log(`client: ${(await response.text()).trim()}`);
      await sleep(200);
    }
  } finally {
    console.log("client: stopped");
  }
}
// #endregion

// #region main
await runMain(async () => {
  try {
    await taskGroup(async (tg) => {
      const { address, port } = await tg.start(greetingService); // returns once the service listens
      const url = `http://${address}:${port}`;
      console.log(`service: listening on ${url} (press Ctrl-C to stop)`);
      tg.spawn(() => client(url), { name: "client" });
    });
  } finally {
    console.log("main: shut down cleanly");
  }
});
// #endregion
