-- common.lua: what every queue script begins with (scripts.rs puts it in front of each).
--
-- KEYS, the same fifteen for every queue script, in keys.rs's QUEUE_KEYS order:
--   1 meta  2 next_ticket  3 head  4 line  5 consumers  6 departed  7 stock  8 grants
--   9 grant_expiry  10 admissions  11 reservations  12 seq  13 events  14 notes
--   15 joined
-- ARGV: each script's own (see its top).
--
-- Expiry: a grant is ended by time by whichever script first looks at it after its time:
-- expire.lua, or redeem, extend, reserve and leave, which first end every grant due
-- (`lapse_due`, as the in-memory rules expire what is due before each of these). Either
-- way its units are back in stock at once. Only expire.lua's reply says who expired, so
-- a grant ended elsewhere is marked 'lapsed' (ended, not yet reported) and stays in the
-- expiry index; the next expire.lua reports it and marks it 'expired'.
--
-- Replies are arrays whose first element is a tag: 'ok', or the reason for a refusal
-- ('unknown', 'closed', 'no_grant', ...). Lua arrays end at the first nil, so replies
-- never hold one.

local META, NEXT_TICKET, HEAD, LINE, CONSUMERS, DEPARTED, STOCK, GRANTS, GRANT_EXPIRY,
  ADMISSIONS, RESERVATIONS, SEQ, EVENTS, NOTES, JOINED =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9],
  KEYS[10], KEYS[11], KEYS[12], KEYS[13], KEYS[14], KEYS[15]

-- Most grants one script expires (or `lapse_due` ends) at once, so that a burst of
-- expiries never holds Redis for long; the ticker calls again, and a grant past its time
-- is refused anyway (`past_time`).
local EXPIRE_BATCH = 1000

local function int(v)
  return tonumber(v) or 0
end

local function fmt(n)
  return string.format('%d', n)
end

local function exists()
  return redis.call('EXISTS', META) == 1
end

local function status()
  return redis.call('HGET', META, 'status')
end

local function read_stock()
  local s = redis.call('HMGET', STOCK, 'available', 'total')
  return int(s[1]), int(s[2])
end

-- Appends a broadcast to the capped log and returns its seq.
local function broadcast(kind, data)
  local seq = redis.call('INCR', SEQ)
  local cap = int(redis.call('HGET', META, 'log_len'))
  redis.call('XADD', EVENTS, 'MAXLEN', '~', cap, fmt(seq) .. '-0', 'kind', kind, 'data', data)
  return seq
end

local function broadcast_stock(available, total)
  return broadcast('stock_update',
    '{"available":' .. fmt(available) .. ',"total":' .. fmt(total) .. '}')
end

-- Sets available stock (never above the total) and tells everyone.
local function set_available(available)
  local _, total = read_stock()
  available = math.min(available, total)
  redis.call('HSET', STOCK, 'available', fmt(available))
  broadcast_stock(available, total)
end

-- Grants are stored as "status expires_at extended reserved consumer": the consumer id
-- comes last since it may hold any visible character.
local function grant_get(grant)
  local raw = redis.call('HGET', GRANTS, grant)
  if not raw then
    return nil
  end
  local s, x, e, r, c = string.match(raw, '^(%a+) (%d+) (%d) (%d+) (.*)$')
  return { s = s, x = tonumber(x), e = (e == '1'), r = tonumber(r), c = c }
end

-- Notes the nodes read to keep their mirrors (engine/redis_node): what changed that is
-- not a broadcast. Ids are consecutive (`n-0`, n counted in meta's `notes`), so a node
-- that finds one missing knows it lost some (trimmed while it was away) and reloads.
-- Kinds: 'g' a grant changed (a = grant, b = its stored record), 'h' the head moved
-- (a = new head, b = shoppers admitted), 'l' a waiting shopper left (a = ticket),
-- 'r' the rate changed (a = per minute).
local NOTES_CAP = 50000

local function note(kind, a, b)
  local n = redis.call('HINCRBY', META, 'notes', 1)
  redis.call('XADD', NOTES, 'MAXLEN', '~', NOTES_CAP, fmt(n) .. '-0', 'k', kind, 'a', a, 'b', b)
end

local function grant_put(grant, g)
  local record = g.s .. ' ' .. fmt(g.x) .. ' ' .. (g.e and '1' or '0') .. ' ' .. fmt(g.r) ..
    ' ' .. g.c
  redis.call('HSET', GRANTS, grant, record)
  note('g', grant, record)
end

-- Units of stock a grant holds: the admission's one, or what was reserved.
local function units(g)
  return math.max(1, g.r)
end

-- Ends the active grant `grant` (expired or given up): no longer redeemable, out of the
-- expiry index, counted. Returns its units; the caller gives them back.
local function end_grant(grant, g)
  g.s = 'expired'
  grant_put(grant, g)
  redis.call('ZREM', GRANT_EXPIRY, grant)
  redis.call('HINCRBY', META, 'expired', 1)
  return units(g)
end

-- Expires active grants whose time is up (at most EXPIRE_BATCH), their units back to
-- stock in one broadcast. Returns {consumer, grant, units} of each. Only expire.lua calls
-- it, since only its reply tells the caller who expired.
local function expire_due(now)
  local due = redis.call('ZRANGEBYSCORE', GRANT_EXPIRY, '-inf', now, 'LIMIT', 0, EXPIRE_BATCH)
  local expired, back = {}, 0
  for _, grant in ipairs(due) do
    local g = grant_get(grant)
    if g and g.s == 'active' then
      local u = end_grant(grant, g)
      back = back + u
      expired[#expired + 1] = { g.c, grant, u }
    elseif g and g.s == 'lapsed' then
      -- Ended by `lapse_due`, its units back and counted then: only the report is owed.
      g.s = 'expired'
      grant_put(grant, g)
      redis.call('ZREM', GRANT_EXPIRY, grant)
      expired[#expired + 1] = { g.c, grant, units(g) }
    else
      redis.call('ZREM', GRANT_EXPIRY, grant)
    end
  end
  if back > 0 then
    local available = read_stock()
    set_available(available + back)
  end
  return expired
end

-- Ends by time every active grant due at `now` (at most EXPIRE_BATCH of the first due),
-- their units back to stock in one broadcast, counted as expired, each marked 'lapsed' and
-- left in the expiry index for expire.lua to report. Redeem, extend, reserve and leave
-- call it first, so that no grant is used past its time and no unit waits for a tick.
local function lapse_due(now)
  local due = redis.call('ZRANGEBYSCORE', GRANT_EXPIRY, '-inf', now, 'LIMIT', 0, EXPIRE_BATCH)
  local back = 0
  for _, grant in ipairs(due) do
    local g = grant_get(grant)
    if g and g.s == 'active' then
      g.s = 'lapsed'
      grant_put(grant, g)
      redis.call('HINCRBY', META, 'expired', 1)
      back = back + units(g)
    end
  end
  if back > 0 then
    local available = read_stock()
    set_available(available + back)
  end
end

-- Whether the grant `g` has ended by time: expired, lapsed (ended, not yet reported), or
-- active past its time (beyond what one `lapse_due` batch reaches).
local function past_time(g, now)
  return g.s == 'expired' or g.s == 'lapsed' or (g.s == 'active' and g.x <= int(now))
end

-- The active grant of `consumer`, refused as expired when past its time. Returns grant,
-- record; or nil and the refusal.
local function active_grant_of(consumer, now)
  local grant = redis.call('HGET', ADMISSIONS, consumer)
  if not grant then
    return nil, 'no_grant'
  end
  local g = grant_get(grant)
  if not g then
    return nil, 'no_grant'
  end
  if g.s == 'redeemed' then
    return nil, 'redeemed'
  elseif past_time(g, now) then
    return nil, 'expired'
  end
  return grant, g
end

-- The experience's cursor and stock and status: {epoch, seq, available, total, status}.
local function view()
  local available, total = read_stock()
  return { int(redis.call('HGET', META, 'epoch')), int(redis.call('GET', SEQ)), available, total,
    status() }
end

-- Where `consumer` stands: {'waiting', position} or {'admitted', grant, status,
-- expires_at, reserved, checkout} or {'left'}.
local function standing(consumer)
  local rank = redis.call('ZRANK', LINE, consumer)
  if rank then
    return { 'waiting', rank + 1 }
  end
  local grant = redis.call('HGET', ADMISSIONS, consumer)
  local g = grant and grant_get(grant)
  if g then
    return { 'admitted', grant, g.s, g.x, g.r, redis.call('HGET', META, 'checkout') }
  end
  return { 'left' }
end

-- {'ok', ticket, view..., standing...} for a consumer holding `ticket`.
local function place(consumer, ticket)
  local reply = { 'ok', ticket }
  for _, v in ipairs(view()) do
    reply[#reply + 1] = v
  end
  for _, v in ipairs(standing(consumer)) do
    reply[#reply + 1] = v
  end
  return reply
end

