import { expect, it } from "vitest";
import * as opentelemetry from "../src/index.js";
import packageJson from "../package.json" with { type: "json" };

it("@quartet/opentelemetry exports exactly its public functions", () => {
  expect(Object.keys(opentelemetry).sort()).toEqual(["traceToOpenTelemetry"]);
});

it("the package's exports map has only the root entry, resolving to the sources under the quartet-source condition", () => {
  expect(Object.keys(packageJson.exports)).toEqual([".", "./package.json"]);
  expect(packageJson.exports["."]["quartet-source"]).toBe("./src/index.ts");
});

it("takes @opentelemetry/api and @quartet/core from the program (peer dependencies), and depends on nothing else", () => {
  expect(Object.keys(packageJson.peerDependencies).sort()).toEqual(["@opentelemetry/api", "@quartet/core"]);
  expect("dependencies" in packageJson).toBe(false);
});
