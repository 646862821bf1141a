import { createHash } from "node:crypto";

// The Redis side of cluster leases: one Lua script, run atomically, that both settles and grants, so an
// instance needs a single round trip to report its spend, return what it does not need and take more.
//
// Per budget (or rate limit) and window, a hash `<prefix>budget:{<id>}:<windowStart>` holds:
//   total   what is committed: every instance's claim plus what expired leases were charged
//   spent   what instances reported as really spent, plus what expired leases were charged
//   c:<i>   instance i's claim: what it reported spent plus the lease it holds
//   s:<i>   what of instance i is already counted in `spent`
//   r:<i>   what instance i had reserved for requests under way at its last report
//   q:<i>   the sequence number of instance i's last report
// and a sorted set `<prefix>leases:{<id>}:<windowStart>` of lease deadlines (Redis time, ms) per instance.
//
// Reports are absolute (cumulative spend, the claim to keep), never deltas, and carry a sequence number:
// a report replayed after a timeout, or overtaken by a newer one, changes nothing, so a lost answer never
// double-charges.
//
// An instance that shuts down with nothing under way reports a last time and its fields are deleted (its
// spend stays in `spent` and `total`); a crashed one's stay until the window's keys expire.
//
// A lease past its deadline is swept by whichever report comes next. "charge" (the default) counts the
// whole unreported part of the claim as spent: a dead instance may have spent any of it at a provider, and
// nothing may fail open. "reclaim" charges only what was reserved at its last report and frees the rest for
// the other instances, at the risk of what that instance admitted after its last report (docs/cluster.md).
// "release" charges nothing: for places held only while requests are under way (parallel-request limits).
//
// Rate limits use the same hash per fixed window, with the previous window's total weighing in by the part
// of it still inside the sliding window (the two-window approximation; its error is in docs/cluster.md).
//
// A report from an instance that Redis answered before in this window, finding the window's hash gone,
// before the hash was due to expire means Redis lost what it knew (a restart without persistence). Then `<prefix>lost:{<id>}` is set for
// `warmupMs`: while it lasts only claims already held are renewed and nothing new is granted, so that every
// live instance reports its spend again before the budget is handed out afresh.

export const SYNC_SCRIPT = `
local h, leases, prev, lost = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local inst, seq = ARGV[1], tonumber(ARGV[2])
local settled, reserved, hold, want = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local limit, ttl, expireAt = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local expiry, warmup = ARGV[10], tonumber(ARGV[11])
local known, winStart, winEnd = ARGV[12] == '1', tonumber(ARGV[13]), tonumber(ARGV[14])
local last = ARGV[15] == '1'
local function n(x) return string.format('%d', x) end
local function num(key, field) return tonumber(redis.call('HGET', key, field) or '0') end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if known and warmup > 0 and (expireAt == 0 or now < expireAt) and redis.call('EXISTS', h) == 0 then
  redis.call('SET', lost, '1', 'PX', n(warmup))
end
local total, spent = num(h, 'total'), num(h, 'spent')
for _, e in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now)) do
  local c, s, r = num(h, 'c:' .. e), num(h, 's:' .. e), num(h, 'r:' .. e)
  local charged = c - s
  if expiry == 'reclaim' then charged = math.min(r, c - s) elseif expiry == 'release' then charged = 0 end
  spent = spent + charged
  total = total - (c - s - charged)
  redis.call('HSET', h, 'c:' .. e, n(s + charged), 's:' .. e, n(s + charged), 'r:' .. e, '0')
  redis.call('ZREM', leases, e)
end
local c, s, q = num(h, 'c:' .. inst), num(h, 's:' .. inst), num(h, 'q:' .. inst)
if seq > q then
  if settled > s then
    spent = spent + settled - s
    s = settled
  end
  local keep = math.max(s, settled + reserved + hold)
  local others = total - c
  local room = limit - others
  if prev ~= h and winEnd > winStart then
    local inside = 1 - (now - winStart) / (winEnd - winStart)
    if inside > 0 then room = room - math.ceil(num(prev, 'total') * inside) end
  end
  if redis.call('EXISTS', lost) == 1 then want = 0 end
  c = math.max(keep, math.min(keep + want, room))
  total = others + c
  if last and c == s then
    redis.call('HDEL', h, 'c:' .. inst, 's:' .. inst, 'r:' .. inst, 'q:' .. inst)
  else
    redis.call('HSET', h, 'c:' .. inst, n(c), 's:' .. inst, n(s), 'r:' .. inst, n(reserved), 'q:' .. inst, n(seq))
  end
  if c > s then
    redis.call('ZADD', leases, now + ttl, inst)
  else
    redis.call('ZREM', leases, inst)
  end
end
redis.call('HSET', h, 'total', n(total), 'spent', n(spent), 'limit', n(limit))
if expireAt > 0 then
  redis.call('PEXPIREAT', h, expireAt)
  redis.call('PEXPIREAT', leases, expireAt)
end
return {c, s, spent, total, now}
`;

export const SYNC_SCRIPT_SHA = createHash("sha1").update(SYNC_SCRIPT).digest("hex");

/**
 * A window Redis does not know (a fresh or emptied Redis, a deployment turning cluster mode on) starts from
 * what the store saved of it: counted as a holder "store" that has spent it and holds no lease, so nothing
 * ever expires it. A window Redis knows is left as it is. Answers 1 when it seeded.
 */
export const SEED_SCRIPT = `
local h = KEYS[1]
local spent, expireAt = tonumber(ARGV[1]), tonumber(ARGV[2])
if redis.call('EXISTS', h) == 1 then return 0 end
local n = string.format('%d', spent)
redis.call('HSET', h, 'total', n, 'spent', n, 'c:store', n, 's:store', n)
if expireAt > 0 then redis.call('PEXPIREAT', h, expireAt) end
return 1
`;

/** The keys of one budget's window; the `{id}` hash tag keeps them in one Redis Cluster slot. */
export function leaseKeys(
  prefix: string,
  id: string,
  start: number,
  previousStart: number | undefined,
): [hash: string, leases: string, previous: string, lost: string] {
  const hash = `${prefix}budget:{${id}}:${start}`;
  return [
    hash,
    `${prefix}leases:{${id}}:${start}`,
    previousStart === undefined ? hash : `${prefix}budget:{${id}}:${previousStart}`,
    `${prefix}lost:{${id}}`,
  ];
}

/** What one run of the script answers. */
export interface SyncAnswer {
  /** The instance's claim now: its spend as counted plus the lease it holds. */
  readonly claim: number;
  /** What of the instance's spend Redis has counted (at least its report; more after an expired lease was charged). */
  readonly counted: number;
  readonly spent: number;
  readonly total: number;
  /** Redis's clock (ms). */
  readonly now: number;
}

export function readSyncAnswer(reply: unknown): SyncAnswer {
  if (!Array.isArray(reply) || reply.length !== 5) throw new Error("unexpected lease script answer");
  const [claim, counted, spent, total, now] = reply.map(Number) as [number, number, number, number, number];
  return { claim, counted, spent, total, now };
}
