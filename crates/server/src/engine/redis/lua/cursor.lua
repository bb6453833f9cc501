-- cursor.lua: the experience's cursor, stock and status, read together.
-- KEYS: the queue keys (common.lua); reads meta, stock, seq.
-- ARGV: none.
-- Reply: {'ok', epoch, seq, available, total, status}, or {'unknown'}.

if not exists() then
  return { 'unknown' }
end
local reply = { 'ok' }
for _, v in ipairs(view()) do
  reply[#reply + 1] = v
end
return reply
