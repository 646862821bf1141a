import type { RedisSemanticCounts } from "../../cache/redis-semantic.js";
import type { CacheStoreCounts } from "../../cache/store.js";
import { Histogram, pushHistogram } from "../../observability/lane-metrics.js";
import { counter, histogram, type MetricJson } from "../../observability/metric-json.js";

// A lane's cache figures for /metrics: lookups by result, the similarity of each semantic search's
// nearest entry (hit or not: where the threshold sits in what clients ask), what hits saved, and the
// store's own counts. The labels are fixed words: nothing a client sends becomes one.

export type LookupResult = "exact_hit" | "semantic_hit" | "miss" | "bypass";

const SIMILARITY_BUCKETS = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99, 1];

export class CacheCounts {
  private readonly lookups: Record<LookupResult, number> = {
    exact_hit: 0,
    semantic_hit: 0,
    miss: 0,
    bypass: 0,
  };
  private readonly similarity = new Histogram(SIMILARITY_BUCKETS);
  /** Provider cost the hits did not incur, in millionths of a dollar. */
  savedMicros = 0;
  /** Semantic lookups given up because the embedding could not be had. */
  embeddingFailures = 0;
  /** Semantic matches refused because their numbers, names or negations differ (src/cache/salient.ts). */
  salientRefusals = 0;

  looked(result: LookupResult): void {
    this.lookups[result]++;
  }

  nearest(similarity: number): void {
    this.similarity.observe(similarity);
  }

  metrics(store: CacheStoreCounts, shared: RedisSemanticCounts | undefined): MetricJson[] {
    const lookups = counter("switchyard_cache_lookups_total", "Cache lookups by result");
    for (const result of Object.keys(this.lookups) as LookupResult[])
      lookups.values.push({ value: this.lookups[result], labels: { result } });
    const similarity = histogram(
      "switchyard_cache_similarity",
      "Cosine similarity of each semantic lookup's nearest earlier request",
    );
    pushHistogram(similarity, this.similarity, {});
    const saved = counter("switchyard_cache_saved_usd_total", "Provider cost that cache hits did not incur");
    saved.values.push({ value: this.savedMicros / 1e6, labels: {} });
    const embedding = counter(
      "switchyard_cache_embedding_failures_total",
      "Semantic lookups skipped because the embedding model did not answer",
    );
    embedding.values.push({ value: this.embeddingFailures, labels: {} });
    const salient = counter(
      "switchyard_cache_salient_refusals_total",
      "Semantic matches over the threshold refused for differing numbers, names or negations",
    );
    salient.values.push({ value: this.salientRefusals, labels: {} });
    const stored = counter("switchyard_cache_stores_total", "Answers written to the cache");
    stored.values.push({ value: store.stores, labels: {} });
    const evictions = counter("switchyard_cache_evictions_total", "Entries dropped to stay within the bound");
    evictions.values.push({ value: store.evictions, labels: {} });
    const failures = counter(
      "switchyard_cache_store_failures_total",
      "Reads (answered as misses) and writes (dropped) the store could not make",
    );
    failures.values.push({ value: store.failedReads, labels: { operation: "read" } });
    failures.values.push({ value: store.failedWrites, labels: { operation: "write" } });
    const metrics = [lookups, similarity, saved, embedding, salient, stored, evictions, failures];
    if (shared !== undefined) {
      const entries = counter(
        "switchyard_cache_semantic_shared_total",
        "Semantic entries published to Redis, and other instances' read from it",
      );
      entries.values.push({ value: shared.published, labels: { direction: "published" } });
      entries.values.push({ value: shared.synced, labels: { direction: "synced" } });
      failures.values.push({ value: shared.failed, labels: { operation: "semantic_share" } });
      metrics.push(entries);
    }
    return metrics;
  }
}
