// Hello, Quartet: a service started with tg.start(), a worker that uses it,
// a timeout, and a clean shutdown. Run it with `pnpm demo`.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TimeoutError, currentSignal, failAfter, run, sleepForever, taskGroup, type TaskStatus } from "@quartet/core";

/** An HTTP service. It reports its port through `status.started()` once it listens, then serves until cancelled. */
async function greetingService(status: TaskStatus<number>): Promise<void> {
  const server: Server = createServer((request, response) => {
    if (request.url === "/slow") {
      // A handler that takes far too long; it gives up if the client goes away.
      const timer = setTimeout(() => response.end("finally\n"), 60_000);
      request.once("close", () => clearTimeout(timer));
      return;
    }
    response.end(`hello from the service, you asked for ${request.url}\n`);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  console.log(`service: listening on 127.0.0.1:${port}`);
  status.started(port);
  try {
    await sleepForever(); // serve until the group is cancelled
  } finally {
    server.closeAllConnections();
    server.close();
    console.log("service: closed");
  }
}

/** A worker: one quick request, and one that it abandons after 200 ms. */
async function worker(port: number): Promise<void> {
  // currentSignal() aborts the request if this task is cancelled.
  const quick = await fetch(`http://127.0.0.1:${port}/greeting`, { signal: currentSignal() });
  console.log(`worker: got "${(await quick.text()).trim()}"`);
  try {
    await failAfter(200, async () => {
      console.log("worker: asking for /slow, willing to wait 200 ms");
      await fetch(`http://127.0.0.1:${port}/slow`, { signal: currentSignal() });
    });
  } catch (error) {
    if (!(error instanceof TimeoutError)) throw error;
    console.log("worker: gave up on /slow after 200 ms (the request was aborted)");
  }
}

await run(async () => {
  await taskGroup(async (tg) => {
    const port = await tg.start(greetingService);
    console.log(`main: the service is ready on port ${port}`);
    await worker(port);
    console.log("main: work done, shutting down");
    tg.cancelScope.cancel(); // stops the service; taskGroup waits for its cleanup
  });
  console.log("main: clean shutdown");
});
