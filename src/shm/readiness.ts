// Whether the gateway's store, and in cluster mode its Redis, answer, as the control plane last found them,
// for every lane's /ready. The control plane writes one flag each here; a lane reads them without asking.

const STORE = 0;
const CLUSTER = 1;
const FLAGS = 2;

export function createReadinessBuffer(): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(FLAGS * 4);
  // The store answered at start-up, or the gateway would not have started.
  Atomics.store(new Int32Array(buffer), STORE, 1);
  Atomics.store(new Int32Array(buffer), CLUSTER, 1);
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

  /** Cluster mode: the Redis that shares budgets and limits answers. */
  get cluster(): boolean {
    return Atomics.load(this.flags, CLUSTER) === 1;
  }

  set cluster(reachable: boolean) {
    Atomics.store(this.flags, CLUSTER, reachable ? 1 : 0);
  }
}
