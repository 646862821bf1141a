/**
 * The benchmark's load balancer as a process of its own (test/helpers/balancer.ts), so that its CPU is
 * counted with the gateways behind it and not with the load driver's:
 *   node dist/bench/lb.js --backends 127.0.0.1:8001,127.0.0.1:8002 [--port 0] [--max-connections N]
 * It prints its URL (http://127.0.0.1:PORT) once it listens, and closes on SIGTERM or SIGINT.
 */
import { parseArgs } from "node:util";
import { Balancer, parseBackend } from "../test/helpers/balancer.js";

const { values } = parseArgs({
  options: {
    backends: { type: "string" },
    port: { type: "string", default: "0" },
    "max-connections": { type: "string" },
  },
});
if (values.backends === undefined) throw new Error("--backends host:port,... is required");

const balancer = await Balancer.start({
  backends: values.backends.split(",").map(parseBackend),
  port: Number(values.port),
  ...(values["max-connections"] === undefined ? {} : { maxConnections: Number(values["max-connections"]) }),
});
process.stdout.write(`${balancer.url}\n`);

const stop = (): void => {
  void balancer.close().then(() => process.exit(0));
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
