/** http, raw: the handler on plain `node:http`, with Node's default options. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ServerPeer } from "../../scenario.js";
import { hello } from "./scenario.js";

const peer: ServerPeer = async (ready) => {
  const server = createServer(hello);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  ready((server.address() as AddressInfo).port);
  await new Promise(() => {}); // serves until the process is killed
};
export default peer;
