export type ScanOk = {
  ok: true;
  modelType: "string" | "missing" | "other";
  /** Decoded value with escapes resolved; undefined unless modelType is "string". */
  model: string | undefined;
  /** Byte offsets of the model string token including its quotes; -1 when it is not a string. */
  modelStart: number;
  modelEnd: number;
  /** Undefined when absent or not a boolean. */
  stream: boolean | undefined;
  /** The body has a top-level `fallbacks` or `timeout`: fields the gateway takes out before the provider sees it. */
  gatewayFields: boolean;
  /** More than one top-level `model` member: routing reads the last, a provider may read the first. */
  modelRepeated: boolean;
  /**
   * Byte offsets of the last top-level `metadata` member's value when it is an object, from its `{` to past
   * its `}`, so the client's metadata is parsed alone; -1 otherwise.
   */
  metadataStart: number;
  metadataEnd: number;
};

export type ScanFail = { ok: false; error: string; offset: number };

export type ScanResult = ScanOk | ScanFail;

export type Encoding = "o200k_base" | "cl100k_base";

/** Int32 slots the addon's scanRequestInto fills (see native/src/lib.rs). */
export const SCAN_SLOTS = 10;

/** Containers nested deeper than this are rejected; the top-level object counts as depth 1. */
export const MAX_DEPTH = 512;

/** Offsets are carried as int32 on the native path, so both paths refuse larger bodies. */
export const MAX_BODY = 0x7fffffff;
