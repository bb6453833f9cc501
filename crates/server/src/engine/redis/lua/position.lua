-- position.lua: where a shopper stands, read in one go with the cursor it is true at.
-- KEYS: the queue keys (common.lua); reads only.
-- ARGV: 1 consumer id.
-- Reply: the place (common.lua `place`), or {'unknown'} or {'no_consumer'}.

if not exists() then
  return { 'unknown' }
end
local ticket = redis.call('HGET', CONSUMERS, ARGV[1])
if not ticket then
  return { 'no_consumer' }
end
return place(ARGV[1], int(ticket))
