import { expect, it } from "vitest";
import * as bridge from "../src/index.js";
import packageJson from "../package.json" with { type: "json" };

it("@quartet/effection exports exactly its public functions", () => {
  expect(Object.keys(bridge).sort()).toEqual(["fromOperation", "fromStream", "toOperation", "toStream"]);
});

it("the package's exports map has only the root entry, resolving to the sources under the quartet-source condition", () => {
  expect(Object.keys(packageJson.exports)).toEqual([".", "./package.json"]);
  expect(packageJson.exports["."]["quartet-source"]).toBe("./src/index.ts");
});

it("takes @quartet/core and effection 4 as peer dependencies", () => {
  expect(packageJson.peerDependencies).toEqual({ "@quartet/core": "workspace:^", effection: "^4.0.0" });
});
