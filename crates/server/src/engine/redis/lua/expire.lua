-- expire.lua: expires the grants whose time is up (at most common.lua's EXPIRE_BATCH a
-- call), every unit they held back to stock.
-- KEYS: the queue keys (common.lua); writes grants, grant_expiry, stock, seq, events,
--       meta (counts).
-- ARGV: 1 now (ms).
-- Reply: {'ok', then for each grant: consumer, grant, units}, or {'unknown'}.

if not exists() then
  return { 'unknown' }
end
local reply = { 'ok' }
for _, e in ipairs(expire_due(ARGV[1])) do
  reply[#reply + 1] = e[1]
  reply[#reply + 1] = e[2]
  reply[#reply + 1] = e[3]
end
return reply
