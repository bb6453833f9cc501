-- replay.lua: the broadcasts after a cursor, when the capped log still holds every one.
-- KEYS: the queue keys (common.lua); reads meta, seq, events.
-- ARGV: 1 the cursor's epoch, 2 its seq.
-- Reply: {'ok', then for each event: seq, kind, data}, or {'gap'} (another epoch, a seq
--        from the future, or trimmed past: the caller sends a snapshot), or {'unknown'}.

if not exists() then
  return { 'unknown' }
end
local epoch, after = ARGV[1], int(ARGV[2])
local seq = int(redis.call('GET', SEQ))
if redis.call('HGET', META, 'epoch') ~= epoch or after > seq then
  return { 'gap' }
end
local reply = { 'ok' }
if after == seq then
  return reply
end
local entries = redis.call('XRANGE', EVENTS, fmt(after + 1) .. '-0', '+')
for i, entry in ipairs(entries) do
  -- A missing first entry is a trimmed one; ids are consecutive from there.
  if entry[1] ~= fmt(after + i) .. '-0' then
    return { 'gap' }
  end
  local fields = entry[2]
  local kind, data
  for f = 1, #fields, 2 do
    if fields[f] == 'kind' then
      kind = fields[f + 1]
    elseif fields[f] == 'data' then
      data = fields[f + 1]
    end
  end
  reply[#reply + 1] = after + i
  reply[#reply + 1] = kind or ''
  reply[#reply + 1] = data or ''
end
if #entries ~= seq - after then
  return { 'gap' }
end
return reply
