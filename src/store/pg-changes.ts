import { randomUUID } from "node:crypto";
import pg from "pg";
import type { StoreWatcher } from "./types.js";

// Gateways on one PostgreSQL database tell each other that what the admin API writes changed: a NOTIFY on
// one channel after each change, a LISTEN on a connection of its own in every gateway. A notification
// carries the sender's id, so a gateway does not reload for its own change. A watch that loses its
// connection connects again, and counts that as a change, since what it missed is unknown.

const CHANNEL = "switchyard_changes";
/** This process, among the gateways on the database. */
const INSTANCE = randomUUID();
const RETRY_MS = 1_000;

export async function announceChange(pool: pg.Pool): Promise<void> {
  await pool.query("SELECT pg_notify($1, $2)", [CHANNEL, INSTANCE]);
}

export function watchChanges(url: string, changed: () => void): StoreWatcher {
  let client: pg.Client | undefined;
  let stopped = false;
  let lost = false;
  let retry: NodeJS.Timeout | undefined;

  const again = (from: pg.Client) => {
    if (stopped || client !== from) return;
    client = undefined;
    lost = true;
    from.end().catch(() => {});
    retry = setTimeout(() => void connect(), RETRY_MS);
    retry.unref();
  };

  const connect = async () => {
    const next = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    client = next;
    next.on("notification", (message) => {
      if (message.channel === CHANNEL && message.payload !== INSTANCE) changed();
    });
    next.on("error", () => again(next));
    next.on("end", () => again(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${CHANNEL}`);
      if (stopped) await next.end();
      else if (lost) {
        lost = false;
        changed();
      }
    } catch {
      again(next);
    }
  };

  void connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(retry);
      const last = client;
      client = undefined;
      await last?.end().catch(() => {});
    },
  };
}
