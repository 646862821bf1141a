import { Packr, RESET_BUFFER_MODE } from "msgpackr";
import { uuidText } from "../../random-id.js";
import type { LoggedContent, LoggedErrorClass, RecordToStore, RequestLogRecord } from "./record.js";

// A request log record as it crosses from a lane to the log worker: a msgpack array in a fixed order (no
// field names on the wire), the id and the content as raw bytes: the worker, not the lane, makes their text.

/** The layout's version, first in every record: a worker never misreads a record of another layout. */
const LAYOUT = 2;
const FIELDS = 32;

/** RequestLogRecord with the id as a UUID's 16 bytes, and the content still as the bytes the lane saw. */
export interface RecordInTransit extends Omit<RequestLogRecord, "id" | "input" | "output"> {
  readonly id: Uint8Array;
  readonly input: Uint8Array | string | null;
  readonly output: Uint8Array | string | null;
}

/**
 * One per lane: it reuses its buffer, so `encode`'s answer is valid until the next call. Each record is
 * packed at the start of that buffer (8-aligned, as the ring's records are), rather than after the last
 * one, which would make a new buffer every few records.
 */
export class RecordEncoder {
  private readonly packr = new Packr({ useRecords: false, variableMapSize: true });
  private readonly row: unknown[] = new Array(FIELDS);

  encode(record: RecordInTransit): Uint8Array {
    const row = this.row;
    row[0] = LAYOUT;
    row[1] = record.id;
    row[2] = record.time;
    row[3] = record.route;
    row[4] = record.format;
    row[5] = record.model;
    row[6] = record.provider;
    row[7] = record.providerModel;
    row[8] = record.providerKey;
    row[9] = record.virtualKey;
    row[10] = record.team;
    row[11] = record.customer;
    row[12] = record.status;
    row[13] = record.errorCode;
    row[14] = record.errorClass;
    row[15] = record.errorMessage;
    row[16] = record.latencyMs;
    row[17] = record.ttftMs;
    row[18] = record.retries;
    row[19] = record.fallbackIndex;
    row[20] = record.cache;
    row[21] = record.inputTokens;
    row[22] = record.outputTokens;
    row[23] = record.cachedTokens;
    row[24] = record.reasoningTokens;
    row[25] = record.costMicros;
    row[26] = record.stream;
    row[27] = record.metadata;
    row[28] = record.input;
    row[29] = record.output;
    row[30] = record.requestId;
    row[31] = record.cacheSavedMicros;
    return this.packr.pack(row, RESET_BUFFER_MODE);
  }
}

const unpackr = new Packr({ useRecords: false });

const text = (value: unknown): string => (typeof value === "string" ? value : "");
const number = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

function content(value: unknown): LoggedContent | null {
  return typeof value === "string" || value instanceof Uint8Array ? value : null;
}

function metadata(value: unknown): Readonly<Record<string, string>> | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const out: Record<string, string> = {};
  for (const [name, entry] of Object.entries(value)) if (typeof entry === "string") out[name] = entry;
  return out;
}

const ERROR_CLASSES = new Set<string>(["", "client", "policy", "provider", "gateway"]);
const CACHE_STATES = new Set<string>(["", "hit", "semantic", "miss"]);

/**
 * The record, or an Error naming why the bytes are not one of this layout. Its content is left as bytes
 * (views of `bytes`, valid as long as they are): the store keeps them or makes their text.
 */
export function decodeRecord(bytes: Uint8Array): RecordToStore | Error {
  let row: unknown;
  try {
    row = unpackr.unpack(bytes);
  } catch (error) {
    return new Error(`not a msgpack record: ${(error as Error).message}`);
  }
  if (!Array.isArray(row) || row.length !== FIELDS || row[0] !== LAYOUT)
    return new Error("not a request log record of this layout");
  const id = row[1];
  if (!(id instanceof Uint8Array) || id.length !== 16)
    return new Error("a request log record's id is not a UUID");
  const errorClass = text(row[14]);
  const cache = text(row[20]);
  return {
    id: uuidText(id),
    requestId: text(row[30]),
    time: number(row[2]),
    route: text(row[3]),
    format: text(row[4]),
    model: text(row[5]),
    provider: text(row[6]),
    providerModel: text(row[7]),
    providerKey: text(row[8]),
    virtualKey: text(row[9]),
    team: text(row[10]),
    customer: text(row[11]),
    status: number(row[12]),
    errorCode: text(row[13]),
    errorClass: (ERROR_CLASSES.has(errorClass) ? errorClass : "") as LoggedErrorClass,
    errorMessage: text(row[15]),
    latencyMs: number(row[16]),
    ttftMs: number(row[17]),
    retries: number(row[18]),
    fallbackIndex: number(row[19]),
    cache: (CACHE_STATES.has(cache) ? cache : "") as RequestLogRecord["cache"],
    inputTokens: number(row[21]),
    outputTokens: number(row[22]),
    cachedTokens: number(row[23]),
    reasoningTokens: number(row[24]),
    costMicros: number(row[25]),
    cacheSavedMicros: number(row[31]),
    stream: row[26] === true,
    metadata: metadata(row[27]),
    input: content(row[28]),
    output: content(row[29]),
  };
}
