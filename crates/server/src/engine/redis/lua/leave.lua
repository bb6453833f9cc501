-- leave.lua: a shopper gives up their place: out of the waiting line (their ticket joins
-- `departed`), or, once admitted, their active grant ends and its units go back to stock.
-- Every grant due at `now` ends first (common.lua `lapse_due`), so leaving again, after
-- redemption, or with a grant past its time changes nothing more.
-- KEYS: the queue keys (common.lua); writes line, departed, grants, grant_expiry, stock,
--       seq, events, meta (counts).
-- ARGV: 1 consumer id, 2 now (ms).
-- Reply: {'ok', 'line'} | {'ok', 'grant', units} | {'ok', 'nothing'}, or {'unknown'} or
--        {'no_consumer'}.

if not exists() then
  return { 'unknown' }
end
local consumer, now = ARGV[1], ARGV[2]
lapse_due(now)
local ticket = redis.call('HGET', CONSUMERS, consumer)
if not ticket then
  return { 'no_consumer' }
end
if redis.call('ZREM', LINE, consumer) == 1 then
  redis.call('ZADD', DEPARTED, ticket, ticket)
  redis.call('HDEL', JOINED, consumer)
  note('l', ticket, '')
  return { 'ok', 'line' }
end
local grant, g = active_grant_of(consumer, now)
if not grant then
  return { 'ok', 'nothing' }
end
local u = end_grant(grant, g)
local available = read_stock()
set_available(available + u)
return { 'ok', 'grant', u }
