-- redeem.lua: the shop's checkout redeems a grant, once; its units are sold. Every grant
-- due at `now` ends first (common.lua `lapse_due`).
-- KEYS: the queue keys (common.lua); writes grants, grant_expiry, meta (counts), and
--       stock, seq, events when due grants end.
-- ARGV: 1 grant, 2 now (ms).
-- Reply: {'ok', consumer}, or {'unknown'}, {'no_such_grant'}, {'already_redeemed'},
--        {'expired'}.

if not exists() then
  return { 'unknown' }
end
local grant, now = ARGV[1], int(ARGV[2])
lapse_due(now)
local g = grant_get(grant)
if not g then
  return { 'no_such_grant' }
end
if g.s == 'redeemed' then
  return { 'already_redeemed' }
elseif past_time(g, now) then
  return { 'expired' }
end
g.s = 'redeemed'
grant_put(grant, g)
redis.call('ZREM', GRANT_EXPIRY, grant)
redis.call('HINCRBY', META, 'redeemed', 1)
return { 'ok', g.c }
