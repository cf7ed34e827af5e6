// The framework adapters through require() (Node loads the ES modules; see engines).
"use strict";
const { serveExpress, asTask } = require("@quartet/express");
const { serveFastify, quartetRoutes } = require("@quartet/fastify");
const { serveHono } = require("@quartet/hono");
const { serveFramework } = require("@quartet/node/frameworks");

for (const value of [serveExpress, asTask, serveFastify, quartetRoutes, serveHono, serveFramework]) {
  if (typeof value !== "function") throw new Error("missing exports");
}
console.log("require: the adapters load");
console.log("ok");
