import { expect, it } from "vitest";
import * as node from "../src/index.js";
import packageJson from "../package.json" with { type: "json" };

it("@quartet/node exports exactly its public functions and classes", () => {
  expect(Object.keys(node).sort()).toEqual([
    "fromReadable",
    "fromReadableStream",
    "readableFrom",
    "readableStreamFrom",
    "toWritable",
    "toWritableStream",
  ]);
});

it("the package's exports map has only the root entry, resolving to the sources under the quartet-source condition", () => {
  expect(Object.keys(packageJson.exports)).toEqual([".", "./package.json"]);
  expect(packageJson.exports["."]["quartet-source"]).toBe("./src/index.ts");
});
