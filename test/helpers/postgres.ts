import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

// A real PostgreSQL server for tests: the one SWITCHYARD_TEST_POSTGRES_URL names, or a throwaway cluster
// started from Debian's binaries (/usr/lib/postgresql/<version>/bin) in a temporary directory. Each
// createDatabase() is a fresh, empty database; stop() drops them (or the whole cluster).

const run = promisify(execFile);

export interface TestPostgres {
  /** A new empty database; its URL. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

const MISSING =
  "PostgreSQL tests need a server: install Debian's PostgreSQL (apt-get install postgresql; .ci/run does) or set SWITCHYARD_TEST_POSTGRES_URL to a server where this user may create databases";

export async function startTestPostgres(): Promise<TestPostgres> {
  const url = process.env.SWITCHYARD_TEST_POSTGRES_URL;
  if (url !== undefined && url !== "") return onServer(url, async () => {});
  const bin = postgresBin();
  if (bin === undefined) throw new Error(MISSING);
  return startCluster(bin);
}

function postgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((name) => /^\d+$/.test(name) && existsSync(join(root, name, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  // 15 is the version CI installs and the docs name; another is used only when 15 is absent.
  const chosen = versions.includes("15") ? "15" : versions[0];
  return chosen === undefined ? undefined : join(root, chosen, "bin");
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function startCluster(bin: string): Promise<TestPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "sy-pg-"));
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  // PostgreSQL refuses to run as root: as root, the cluster belongs to (and runs as) the postgres user.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
    chownSync(dir, Number(uid.stdout.trim()), Number(gid.stdout.trim()));
  }
  const exec = (tool: string, args: string[]) =>
    asRoot ? run("runuser", ["-u", "postgres", "--", join(bin, tool), ...args]) : run(join(bin, tool), args);

  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    // A throwaway cluster: durability buys nothing here.
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
  ].join(" ");
  try {
    await exec("initdb", [
      "-D",
      data,
      "-A",
      "trust",
      "-U",
      "postgres",
      "-E",
      "UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    await exec("pg_ctl", ["-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"]);
  } catch (error) {
    const serverLog = existsSync(log) ? readFileSync(log, "utf8").slice(-2000) : "";
    rmSync(dir, { recursive: true, force: true });
    throw new Error(
      `could not start a test PostgreSQL from ${bin}: ${(error as Error).message}\n${serverLog}`,
    );
  }
  return onServer(`postgres://postgres@127.0.0.1:${port}/postgres`, async () => {
    await exec("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
    rmSync(dir, { recursive: true, force: true });
  });
}

function onServer(adminUrl: string, stopServer: () => Promise<void>): TestPostgres {
  const created: string[] = [];
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  return {
    async createDatabase() {
      const name = `switchyard_test_${process.pid}_${randomBytes(6).toString("hex")}`;
      await admin((client) => client.query(`CREATE DATABASE ${name}`));
      created.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    },
    async stop() {
      await admin(async (client) => {
        for (const name of created) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
      await stopServer();
    },
  };
}
