// Whether the gateway's store answers, as the control plane last found it, for every lane's /ready. The
// control plane pings the store on a timer and writes one flag here; a lane reads it without asking.

const STORE = 0;
const FLAGS = 1;

export function createReadinessBuffer(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(FLAGS * 4);
  // The store answered at start-up, or the gateway would not have started.
  Atomics.store(new Int32Array(buffer), STORE, 1);
  return buffer;
}

export class Readiness {
  private readonly flags: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.flags = new Int32Array(buffer, 0, FLAGS);
  }

  get store(): boolean {
    return Atomics.load(this.flags, STORE) === 1;
  }

  set store(reachable: boolean) {
    Atomics.store(this.flags, STORE, reachable ? 1 : 0);
  }
}
