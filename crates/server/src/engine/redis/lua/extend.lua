-- extend.lua: moves the expiry of a shopper's active grant later by the experience's
-- extension, once. Every grant due at `now` ends first (common.lua `lapse_due`).
-- KEYS: the queue keys (common.lua); writes grants, grant_expiry, and stock, seq, events,
--       meta (counts) when due grants end.
-- ARGV: 1 consumer id, 2 now (ms).
-- Reply: {'ok', grant, expires_at, reserved, checkout}, or {'unknown'}, {'no_grant'},
--        {'redeemed'}, {'expired'}, {'already_extended'}.

if not exists() then
  return { 'unknown' }
end
local now = ARGV[2]
lapse_due(now)
local grant, g = active_grant_of(ARGV[1], now)
if not grant then
  return { g }
end
if g.e then
  return { 'already_extended' }
end
g.e = true
g.x = g.x + int(redis.call('HGET', META, 'extension_ms'))
grant_put(grant, g)
redis.call('ZADD', GRANT_EXPIRY, g.x, grant)
return { 'ok', grant, g.x, g.r, redis.call('HGET', META, 'checkout') }
