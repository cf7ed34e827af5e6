// A plain HTTP GET with Node's own client and no connection pool, for the tests
// that play the user of an example's server.
import { request, type ClientRequest } from "node:http";

export interface Reply {
  status: number;
  body: string;
}

/** GETs `url`; `onRequest` gets the request, to abort it the way a user closing the tab would. */
export function httpGet(url: string, onRequest?: (request: ClientRequest) => void): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode!, body }));
      response.on("error", reject);
    });
    outgoing.on("error", reject);
    outgoing.end();
    onRequest?.(outgoing);
  });
}
