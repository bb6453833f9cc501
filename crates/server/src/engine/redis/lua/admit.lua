-- admit.lua: admits up to `count` shoppers from the front of the line while stock lasts,
-- in ticket order (departed shoppers are not in the line, so they are skipped), each with
-- a fresh single-use grant and one unit of stock. Expire due grants first (expire.lua),
-- so that their units are handed out again, as the in-memory ticker does.
-- KEYS: the queue keys (common.lua); writes line, head, departed, stock, grants,
--       grant_expiry, admissions, seq, events, notes, meta (counts).
-- ARGV: 1 now (ms), 2 count, 3.. fresh grant ids (at least `count` of them, made by the
--       caller: Lua's random numbers are not secret).
-- Reply: {'ok', epoch, seq, checkout, n, then n times: consumer, ticket, grant,
--        expires_at}, or {'unknown'} or {'closed'}. `seq` is the cursor's after the
--        admissions; checkout is the url admitted shoppers go to.

if not exists() then
  return { 'unknown' }
end
if status() == 'closed' then
  return { 'closed' }
end
local now, count = int(ARGV[1]), int(ARGV[2])
local available, total = read_stock()
local n = math.min(count, available, #ARGV - 2)
local reply = { 'ok', int(redis.call('HGET', META, 'epoch')), 0,
  redis.call('HGET', META, 'checkout'), 0 }
if n <= 0 then
  reply[3] = int(redis.call('GET', SEQ))
  return reply
end
local front = redis.call('ZPOPMIN', LINE, n)
local ttl = int(redis.call('HGET', META, 'grant_ttl_ms'))
local admitted, last = 0, -1
for i = 1, #front, 2 do
  local consumer, ticket = front[i], int(front[i + 1])
  admitted = admitted + 1
  local grant = ARGV[2 + admitted]
  local expires = now + ttl
  grant_put(grant, { s = 'active', x = expires, e = false, r = 0, c = consumer })
  redis.call('ZADD', GRANT_EXPIRY, expires, grant)
  redis.call('HSET', ADMISSIONS, consumer, grant)
  redis.call('HDEL', JOINED, consumer)
  reply[#reply + 1] = consumer
  reply[#reply + 1] = ticket
  reply[#reply + 1] = grant
  reply[#reply + 1] = expires
  last = ticket
end
if admitted > 0 then
  redis.call('SET', HEAD, last + 1)
  note('h', fmt(last + 1), fmt(admitted))
  redis.call('ZREMRANGEBYSCORE', DEPARTED, '-inf', '(' .. fmt(last + 1))
  redis.call('HINCRBY', META, 'admitted', admitted)
  redis.call('HSET', STOCK, 'available', fmt(available - admitted))
  broadcast_stock(available - admitted, total)
end
reply[3] = int(redis.call('GET', SEQ))
reply[5] = admitted
return reply
