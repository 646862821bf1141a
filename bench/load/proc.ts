/** CPU time and memory of a process and its descendants, read from /proc (Linux only). */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

// USER_HZ is 100 on every mainstream Linux build; /proc/<pid>/stat counts in these ticks.
const TICKS_PER_SECOND = 100;

function readStat(pid: number): { ppid: number; cpuTicks: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses; fields resume after the last ')'.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

function statusKb(pid: number, key: "VmRSS" | "VmHWM"): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** The pid and every live descendant. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat === undefined) continue;
    const list = children.get(stat.ppid);
    if (list === undefined) children.set(stat.ppid, [pid]);
    else list.push(pid);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    out.push(pid);
    for (const child of children.get(pid) ?? []) stack.push(child);
  }
  return out;
}

/** CPU microseconds (user + system) used so far by the process tree. */
export function cpuMicros(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) ticks += readStat(pid)?.cpuTicks ?? 0;
  return (ticks * 1_000_000) / TICKS_PER_SECOND;
}

/**
 * CPU microseconds used so far by the process tree's threads, by their nice value: the gateway runs its log
 * worker at a nice value of its own, which is how its share is told from the lanes'.
 */
export function threadCpuMicrosByNice(root: number): Map<number, number> {
  const byNice = new Map<number, number>();
  for (const pid of processTree(root)) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
        const nice = Number(fields[16]);
        const ticks = Number(fields[11]) + Number(fields[12]);
        byNice.set(nice, (byNice.get(nice) ?? 0) + (ticks * 1_000_000) / TICKS_PER_SECOND);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  }
  return byNice;
}

/** CPU microseconds the whole machine has spent busy since boot (every CPU; idle and I/O wait left out). */
export function machineBusyMicros(): number {
  const fields = (readFileSync("/proc/stat", "utf8").split("\n", 1)[0] as string)
    .trim()
    .split(/\s+/)
    .slice(1);
  // user, nice, system, irq, softirq: not idle, I/O wait, or steal (the host's, on a virtual machine).
  const busy = [0, 1, 2, 5, 6].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  return (busy * 1_000_000) / TICKS_PER_SECOND;
}

export function rssKb(root: number): number {
  let kb = 0;
  for (const pid of processTree(root)) kb += statusKb(pid, "VmRSS");
  return kb;
}

/**
 * Peak RSS of a process tree over a window: resets the kernel's high-water mark where allowed
 * (clear_refs 5) and also polls VmRSS, since descendants may come and go.
 */
export class RssWatcher {
  private peakPolledKb = 0;
  private timer: NodeJS.Timeout | undefined;
  private hwmReset = false;

  constructor(
    private readonly root: number,
    private readonly intervalMs = 200,
  ) {}

  start(): void {
    this.hwmReset = true;
    for (const pid of processTree(this.root)) {
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, "5");
      } catch {
        this.hwmReset = false;
      }
    }
    this.peakPolledKb = rssKb(this.root);
    this.timer = setInterval(() => {
      this.peakPolledKb = Math.max(this.peakPolledKb, rssKb(this.root));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Peak in kB. */
  stop(): number {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.peakPolledKb = Math.max(this.peakPolledKb, rssKb(this.root));
    if (!this.hwmReset) return this.peakPolledKb;
    let hwm = 0;
    for (const pid of processTree(this.root)) hwm += statusKb(pid, "VmHWM");
    return Math.max(hwm, this.peakPolledKb);
  }
}
