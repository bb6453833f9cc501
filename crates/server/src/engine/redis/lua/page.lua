-- page.lua: a page of the waiting line for the operator, read at one instant.
-- KEYS: the queue keys (common.lua); reads only.
-- ARGV: 1 offset (0-based), 2 limit (at least 1).
-- Reply: {'ok', waiting, admitted, then for each row: consumer, joined_at (ms)}, or
--        {'unknown'}. Row i (0-based) is at position offset + i + 1.

if not exists() then
  return { 'unknown' }
end
local offset, limit = int(ARGV[1]), int(ARGV[2])
local reply = { 'ok', redis.call('ZCARD', LINE), int(redis.call('HGET', META, 'admitted')) }
local rows = redis.call('ZRANGE', LINE, offset, offset + limit - 1)
for _, consumer in ipairs(rows) do
  reply[#reply + 1] = consumer
  reply[#reply + 1] = int(redis.call('HGET', JOINED, consumer))
end
return reply
