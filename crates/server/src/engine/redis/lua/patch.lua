-- patch.lua: the operator's change of total stock, rate and status. Available stock moves
-- by the total's difference, never below zero; what shoppers see is broadcast.
-- KEYS: the queue keys (common.lua); writes meta, stock, seq, events, notes.
-- ARGV: 1 new total or '', 2 new rate per minute or '', 3 new status or ''.
-- Reply: {'ok', available, total, status}, or {'unknown'}.

if not exists() then
  return { 'unknown' }
end
if ARGV[1] ~= '' then
  local available, total = read_stock()
  local new_total = int(ARGV[1])
  local new_available = math.max(0, available + new_total - total)
  if new_total ~= total or new_available ~= available then
    redis.call('HSET', STOCK, 'available', fmt(new_available), 'total', fmt(new_total))
    broadcast_stock(new_available, new_total)
  end
end
if ARGV[2] ~= '' then
  redis.call('HSET', META, 'rate', ARGV[2])
  note('r', ARGV[2], '')
end
if ARGV[3] ~= '' and ARGV[3] ~= status() then
  redis.call('HSET', META, 'status', ARGV[3])
  broadcast('experience_update',
    cjson.encode({ name = redis.call('HGET', META, 'name'), status = ARGV[3] }))
end
local available, total = read_stock()
return { 'ok', available, total, status() }
