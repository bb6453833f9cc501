-- mirror.lua: what a node keeps of an experience to serve its connections (the mirror in
-- engine/redis_node), read at one instant: the view, the settings, the head and the
-- counts; with ARGV[1] = '1' also the departed tickets, which positions need.
-- KEYS: the queue keys (common.lua); reads only.
-- ARGV: 1 '1' to include the departed tickets, '0' not.
-- Reply: {'ok', epoch, seq, available, total, status, name, rate, checkout, head, notes,
--        waiting, admitted, active, redeemed, expired, then each departed ticket in
--        order}, or {'unknown'}.

if not exists() then
  return { 'unknown' }
end
local reply = { 'ok' }
for _, v in ipairs(view()) do
  reply[#reply + 1] = v
end
local m = redis.call('HMGET', META, 'name', 'rate', 'checkout', 'notes', 'admitted',
  'redeemed', 'expired')
reply[#reply + 1] = m[1]
reply[#reply + 1] = m[2]
reply[#reply + 1] = m[3]
reply[#reply + 1] = int(redis.call('GET', HEAD))
reply[#reply + 1] = int(m[4])
reply[#reply + 1] = redis.call('ZCARD', LINE)
reply[#reply + 1] = int(m[5])
reply[#reply + 1] = redis.call('ZCARD', GRANT_EXPIRY)
reply[#reply + 1] = int(m[6])
reply[#reply + 1] = int(m[7])
if ARGV[1] == '1' then
  for _, t in ipairs(redis.call('ZRANGE', DEPARTED, 0, -1)) do
    reply[#reply + 1] = int(t)
  end
end
return reply
