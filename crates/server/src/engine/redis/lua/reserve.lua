-- reserve.lua: puts `quantity` more units in the cart of a shopper's active grant. The
-- first unit is the one the admission holds; the rest come out of available stock, never
-- below zero, up to the experience's max units per grant. A key that succeeded before is
-- answered as it was then (the same request again), whatever happened since. Every grant
-- due at `now` ends first (common.lua `lapse_due`).
-- KEYS: the queue keys (common.lua); writes grants, reservations, stock, seq, events, meta
--       (counts).
-- ARGV: 1 consumer id, 2 idempotency key, 3 quantity, 4 now (ms).
-- Reply: {'ok', reserved, available, total, stock_changed (0/1)}, or {'unknown'},
--        {'no_grant'}, {'redeemed'}, {'expired'}, {'key_reused'},
--        {'over_limit', max, reserved}, {'out_of_stock', available}.

if not exists() then
  return { 'unknown' }
end
local consumer, key, quantity, now = ARGV[1], ARGV[2], int(ARGV[3]), ARGV[4]
lapse_due(now)
local grant = redis.call('HGET', ADMISSIONS, consumer)
if not grant then
  return { 'no_grant' }
end
local done = redis.call('HGET', RESERVATIONS, grant .. '|' .. key)
if done then
  local q, reserved, available, total = string.match(done, '^(%d+) (%d+) (%d+) (%d+)$')
  if int(q) ~= quantity then
    return { 'key_reused' }
  end
  return { 'ok', int(reserved), int(available), int(total), 0 }
end
local g
grant, g = active_grant_of(consumer, now)
if not grant then
  return { g }
end
local max = int(redis.call('HGET', META, 'max_units'))
local wanted = g.r + quantity
if wanted > max then
  return { 'over_limit', max, g.r }
end
local needed = math.max(1, wanted) - units(g)
local available, total = read_stock()
if needed > available then
  return { 'out_of_stock', available }
end
g.r = wanted
grant_put(grant, g)
if needed > 0 then
  available = available - needed
  redis.call('HSET', STOCK, 'available', fmt(available))
  broadcast_stock(available, total)
end
redis.call('HSET', RESERVATIONS, grant .. '|' .. key,
  fmt(quantity) .. ' ' .. fmt(wanted) .. ' ' .. fmt(available) .. ' ' .. fmt(total))
return { 'ok', wanted, available, total, needed > 0 and 1 or 0 }
