import { defineConfig } from "vitest/config";
import projects from "./vitest.workspace.js";

export default defineConfig({
  test: {
    projects,
    // A hung test is a bug; fail it quickly instead of waiting out a long default.
    testTimeout: 10_000,
  },
});
