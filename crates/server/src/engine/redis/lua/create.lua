-- create.lua: a new experience, its line empty, its stock full, its cursor at seq 0.
-- KEYS: the queue keys (common.lua); writes meta, next_ticket, head, stock, seq.
-- ARGV: 1 name, 2 status, 3 rate per minute, 4 checkout url, 5 grant ttl ms,
--       6 extension ms, 7 max units per grant, 8 stock, 9 epoch, 10 event log length.
-- Reply: {'ok'} or {'exists'}.

if exists() then
  return { 'exists' }
end
redis.call('HSET', META, 'name', ARGV[1], 'status', ARGV[2], 'rate', ARGV[3],
  'checkout', ARGV[4], 'grant_ttl_ms', ARGV[5], 'extension_ms', ARGV[6],
  'max_units', ARGV[7], 'epoch', ARGV[9], 'log_len', ARGV[10],
  'admitted', 0, 'redeemed', 0, 'expired', 0)
redis.call('HSET', STOCK, 'available', ARGV[8], 'total', ARGV[8])
redis.call('SET', NEXT_TICKET, 0)
redis.call('SET', HEAD, 0)
redis.call('SET', SEQ, 0)
return { 'ok' }
