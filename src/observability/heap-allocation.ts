import { GCProfiler, getHeapStatistics } from "node:v8";
import type { MetricJson } from "./metric-json.js";

// Bytes a lane allocates on its V8 heap, counted from the garbage collector's own before/after figures:
// what was allocated between two collections is the heap's use before the later one minus its use after
// the earlier. V8 keeps no running total, and allocation per request is what sets how often a lane stops
// for a scavenge, so this is the figure the hot path is tuned against. Buffers' backing stores live outside
// the heap and are not in it.

export class HeapAllocation {
  private profiler = new GCProfiler();
  private usedAfterLast = getHeapStatistics().used_heap_size;
  private total = 0;

  constructor() {
    this.profiler.start();
  }

  /** Bytes allocated on this thread's heap since the meter was made. */
  allocatedBytes(): number {
    // The profiler reports at stop; a new one takes over at once, so no collection goes unseen.
    const report = this.profiler.stop();
    this.profiler = new GCProfiler();
    this.profiler.start();
    let used = this.usedAfterLast;
    for (const gc of report.statistics) {
      this.total += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - used);
      used = gc.afterGC.heapStatistics.usedHeapSize;
    }
    const now = getHeapStatistics().used_heap_size;
    this.total += Math.max(0, now - used);
    this.usedAfterLast = now;
    return this.total;
  }

  metrics(): MetricJson[] {
    return [
      {
        name: "switchyard_heap_allocated_bytes_total",
        help: "Bytes allocated on the lanes' V8 heaps (Buffers' backing stores excluded)",
        type: "counter",
        aggregator: "sum",
        values: [{ value: this.allocatedBytes(), labels: {} }],
      },
    ];
  }
}
