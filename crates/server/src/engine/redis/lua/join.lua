-- join.lua: a shopper takes the next ticket at the end of the line; a known shopper
-- keeps the one they have (one shopper, one place, whichever node they call).
-- KEYS: the queue keys (common.lua); writes next_ticket, consumers, line, joined.
-- ARGV: 1 consumer id.
-- Reply: the place (common.lua `place`), or {'unknown'} or {'closed'}.

if not exists() then
  return { 'unknown' }
end
local consumer = ARGV[1]
local known = redis.call('HGET', CONSUMERS, consumer)
if known then
  return place(consumer, int(known))
end
if status() == 'closed' then
  return { 'closed' }
end
local ticket = redis.call('INCR', NEXT_TICKET) - 1
redis.call('HSET', CONSUMERS, consumer, ticket)
redis.call('ZADD', LINE, ticket, consumer)
-- When they joined, for the operator's list: Redis's clock, so every node agrees.
local t = redis.call('TIME')
redis.call('HSET', JOINED, consumer, fmt(int(t[1]) * 1000 + math.floor(int(t[2]) / 1000)))
return place(consumer, ticket)
