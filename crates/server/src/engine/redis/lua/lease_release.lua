-- lease_release.lua: gives the ticker lease up (a node shutting down), only for its
-- holder, so that another node takes over at once rather than after the expiry.
-- KEYS: 1 ticker_lease.
-- ARGV: 1 node id.
-- Reply: 1 when released, 0 when the node did not hold it.

if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
