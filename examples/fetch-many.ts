// Fetches many pages from an HTTP API the everyday way: at most 8 requests in
// flight, no more than 200 requests a second, each 503 retried with backoff,
// and the whole job under a deadline. The "API" is a local server started
// here, which answers some requests with 503 the first time, as busy APIs do.
// Run it with `npx --yes pnpm@12 tsx examples/fetch-many.ts [pages]`.
// docs/everyday-patterns.md explains it.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { RateLimiter, currentSignal, failAfter, map, retry, sleep, taskGroup } from "@quartet/core";
import { runMain, serveHttp } from "@quartet/node";

const PAGES = Number(process.argv[2] ?? 60);

// #region server
/** The API: page N is a small JSON document; every 5th page answers 503 on its first request. */
function api(): (request: IncomingMessage, response: ServerResponse) => Promise<void> {
  const seen = new Set<string>();
  return async (request, response) => {
    const url = request.url ?? "/";
    const page = Number(/^\/pages\/(\d+)$/.exec(url)?.[1] ?? NaN);
    if (Number.isNaN(page)) {
      response.writeHead(404).end();
      return;
    }
    if (page % 5 === 0 && !seen.has(url)) {
      seen.add(url);
      response.writeHead(503, { "retry-after": "0" }).end();
      return;
    }
    await sleep(5 + (page % 7)); // the API's own work
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ page, title: `Page ${page}` }));
  };
}
// #endregion

// #region fetch
/** An HTTP status that says the request failed; 5xx are worth retrying. */
class HttpError extends Error {
  constructor(readonly status: number, url: string) {
    super(`GET ${url}: HTTP ${status}`);
    this.name = "HttpError";
  }
}

const limiter = new RateLimiter(200, { interval: 1000, burst: 10, name: "api quota" });
let attempts = 0;
let inFlight = 0;
let mostInFlight = 0;

/** One page: waits for the quota, then fetches it, cancelled with the task (the deadline, a failing sibling). */
async function fetchPage(base: string, page: number): Promise<{ page: number; title: string }> {
  await limiter.acquire();
  attempts++;
  inFlight++;
  mostInFlight = Math.max(mostInFlight, inFlight);
  try {
    const url = `${base}/pages/${page}`;
    const response = await fetch(url, { signal: currentSignal() });
    if (!response.ok) throw new HttpError(response.status, url);
    return (await response.json()) as { page: number; title: string };
  } finally {
    inFlight--;
  }
}

/** Every page, 8 at a time, each retried on 5xx and network errors (not on 404), all within 30 s. */
async function fetchAll(base: string, pages: number[]): Promise<{ page: number; title: string }[]> {
  return failAfter(30_000, () =>
    map(
      pages,
      (page) =>
        retry(() => fetchPage(base, page), {
          attempts: 4,
          delay: 20,
          jitter: true,
          retryIf: (error) => !(error instanceof HttpError) || error.status >= 500,
        }),
      { concurrency: 8, name: "fetch pages" },
    ),
  );
}
// #endregion

// #region main
await runMain(async () => {
  await taskGroup(async (tg) => {
    const address = await tg.start<AddressInfo>((status) => serveHttp(api(), { port: 0, host: "127.0.0.1" }, status), { name: "api" });
    const base = `http://127.0.0.1:${address.port}`;
    const started = performance.now();
    const results = await fetchAll(base, Array.from({ length: PAGES }, (_, i) => i + 1));
    const seconds = (performance.now() - started) / 1000;
    const inOrder = results.every((result, i) => result.page === i + 1);
    console.log(`fetched ${results.length} pages in ${seconds.toFixed(2)} s, in order: ${inOrder}`);
    console.log(`${attempts} requests (${attempts - results.length} retried 503s), at most ${mostInFlight} in flight`);
    tg.cancelScope.cancel(); // stops the API server
  });
});
// #endregion
