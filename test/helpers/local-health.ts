import type { RoutingStrategy } from "../../src/config/types.js";
import type { CompiledProvider } from "../../src/providers/route.js";
import type { Admission, Candidate, Outcome, UpstreamHealth } from "../../src/routing/health.js";

// A lane-local stand-in for the shared upstream state, for unit tests of the attempt loop: candidates are
// chosen in list order (skipping tried and "open" ones), admission follows `refuse`, and every call is logged.

export class LocalHealth implements UpstreamHealth {
  readonly log: string[] = [];
  /** Candidates ("provider/model#key") treated as open circuits. */
  readonly open = new Set<string>();
  refuse: { status: 429 | 503; retryAfterSeconds: number } | undefined;
  /** What `reopensInMs` answers while any candidate asked about is open. */
  cooldownLeftMs = 1000;
  released = 0;

  choose(_strategy: RoutingStrategy, candidates: readonly Candidate[], tried: ReadonlySet<number>): number {
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i] as Candidate;
      if (!tried.has(i) && !this.open.has(`${c.provider.name}/${c.model}#${c.keyIndex}`)) return i;
    }
    return -1;
  }

  started(candidate: Candidate): void {
    this.log.push(`started ${candidate.provider.name}/${candidate.model}#${candidate.keyIndex}`);
  }

  finished(candidate: Candidate, outcome: Outcome): void {
    this.log.push(`finished ${candidate.provider.name}/${candidate.model}#${candidate.keyIndex} ${outcome}`);
  }

  withdrawn(candidate: Candidate): void {
    this.log.push(`withdrawn ${candidate.provider.name}/${candidate.model}#${candidate.keyIndex}`);
  }

  reopensInMs(candidates: readonly Candidate[]): number {
    const open = candidates.some((c) => this.open.has(`${c.provider.name}/${c.model}#${c.keyIndex}`));
    return open ? this.cooldownLeftMs : 0;
  }

  admit(_provider: CompiledProvider): Admission {
    if (this.refuse !== undefined) return { admitted: false, ...this.refuse };
    return { admitted: true, release: () => this.released++ };
  }
}
