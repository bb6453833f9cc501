-- lease_take.lua: takes the experience's ticker lease for a node, or keeps it when the
-- node holds it already (then its expiry starts again). Only one node runs an
-- experience's ticker; a dead holder's lease expires and another node takes it.
-- KEYS: 1 ticker_lease (string: the holder's node id, with an expiry).
-- ARGV: 1 node id, 2 lease time (ms).
-- Reply: 1 when the node holds the lease now, 0 when another node does.

if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
