import { expect, it } from "vitest";
import * as node from "../src/index.js";
import * as frameworks from "../src/frameworks.js";
import packageJson from "../package.json" with { type: "json" };

it("@quartet/node exports exactly its public functions and classes", () => {
  expect(Object.keys(node).sort()).toEqual([
    "BodyTooLargeError",
    "ProcessError",
    "fromReadable",
    "fromReadableStream",
    "openTcpStream",
    "openWorkerPool",
    "readableFrom",
    "readableStreamFrom",
    "receiveChannelOverPort",
    "runInWorker",
    "runMain",
    "runProcess",
    "sendChannelOverPort",
    "serveHttp",
    "serveTcp",
    "toWritable",
    "toWritableStream",
  ]);
});

it("@quartet/node/frameworks exports exactly what framework adapters are built on", () => {
  expect(Object.keys(frameworks).sort()).toEqual(["argumentError", "asRequestCancellation", "serveFramework", "spawnRequestTask"]);
});

it("the package's exports map has the root entry and ./frameworks, resolving to the sources under the quartet-source condition", () => {
  expect(Object.keys(packageJson.exports)).toEqual([".", "./frameworks", "./package.json"]);
  expect(packageJson.exports["."]["quartet-source"]).toBe("./src/index.ts");
  expect(packageJson.exports["./frameworks"]["quartet-source"]).toBe("./src/frameworks.ts");
});

it("ProcessError has its class name as name and says how the command ended", () => {
  const error = new node.ProcessError("false", [], 1, null, "", Buffer.alloc(0));
  expect(error.name).toBe("ProcessError");
  expect(error).toBeInstanceOf(Error);
  expect(error.message).toBe("false exited with code 1");
});
