import type { SpendRecord } from "../../governance/types.js";
import type { SpendSink } from "./admission.js";

// A lane's finished requests' spend, sent to the control plane in batches: one message per interval (or
// per full batch) rather than one per request. What is in a batch not yet sent is the lane's share of the
// crash-loss window stated in docs/governance.md.

export const SPEND_BATCH_INTERVAL_MS = 200;
const BATCH_RECORDS = 512;

export class SpendOutbox implements SpendSink {
  private batch: SpendRecord[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly send: (records: SpendRecord[]) => void) {}

  record(record: SpendRecord): void {
    this.batch.push(record);
    if (this.batch.length >= BATCH_RECORDS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), SPEND_BATCH_INTERVAL_MS).unref();
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    const records = this.batch;
    this.batch = [];
    this.send(records);
  }
}
