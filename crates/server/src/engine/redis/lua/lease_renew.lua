-- lease_renew.lua: starts the expiry of the ticker lease again, only for its holder (a
-- node that lost it must stop ticking, not take it back by renewing).
-- KEYS: 1 ticker_lease.
-- ARGV: 1 node id, 2 lease time (ms).
-- Reply: 1 when renewed, 0 when the node does not hold the lease.

if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
