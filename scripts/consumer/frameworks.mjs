// One request through each framework adapter (@quartet/express, @quartet/fastify, @quartet/hono) as a
// user installs them, with the frameworks from the registry: run by the consumer test on every Node.
import express from "express";
import fastify from "fastify";
import { Hono } from "hono";
import { currentSignal, sleep, taskGroup } from "@quartet/core";
import { asTask, serveExpress } from "@quartet/express";
import { quartetRoutes, serveFastify } from "@quartet/fastify";
import { serveHono } from "@quartet/hono";

const answer = async () => {
  await sleep(1);
  return `in the request's scope: ${currentSignal().aborted === false}`;
};
const expressApp = express();
expressApp.get("/", asTask(async (_request, response) => void response.send(await answer())));
const fastifyApp = fastify();
await fastifyApp.register(quartetRoutes);
fastifyApp.get("/", answer);
const honoApp = new Hono();
honoApp.get("/", async (c) => c.text(await answer()));

const servers = {
  express: (status) => serveExpress(expressApp, { port: 0, host: "127.0.0.1", requestTimeout: 5000 }, status),
  fastify: (status) => serveFastify(fastifyApp, { port: 0, host: "127.0.0.1", requestTimeout: 5000 }, status),
  hono: (status) => serveHono(honoApp, { port: 0, host: "127.0.0.1", requestTimeout: 5000 }, status),
};
for (const [name, serve] of Object.entries(servers)) {
  await taskGroup(async (tg) => {
    const { port } = await tg.start(serve);
    const response = await fetch(`http://127.0.0.1:${port}/`, { headers: { connection: "close" } });
    console.log(`${name}: ${response.status} ${await response.text()}`);
    tg.cancelScope.cancel();
  });
}
console.log("ok");
