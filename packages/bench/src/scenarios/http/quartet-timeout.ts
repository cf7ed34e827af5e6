/** http, quartet-timeout: the handler under `serveHttp` with a 30 s `requestTimeout`: a deadline on every request's scope. */
import type { AddressInfo } from "node:net";
import { taskGroup } from "@quartet/core";
import { serveHttp } from "@quartet/node";
import type { ServerPeer } from "../../scenario.js";
import { hello } from "./scenario.js";

const peer: ServerPeer = async (ready) => {
  await taskGroup(async (tg) => {
    const { port } = await tg.start<AddressInfo>((status) =>
      serveHttp(hello, { port: 0, host: "127.0.0.1", requestTimeout: 30_000 }, status),
    );
    ready(port);
  });
};
export default peer;
