-- Outrider: a rate budget shared by sidecars (RateLimitPolicy rules with scope: global), kept in Redis.
-- The same generic cell rate algorithm as each sidecar's local limiter (proxy/.../ratelimit/Gcra.java): the key
-- holds the theoretical arrival time (tat, microseconds on Redis's clock, which every sidecar shares), and a
-- request at now is admitted when max(tat, now) + interval - now <= capacity. Up to ARGV[3] tokens are taken at
-- once, so that a sidecar can hold a small lease of them.
--
-- KEYS[1]  the bucket (one per rule and key)
-- ARGV[1]  interval: microseconds per token (the sustained rate), at least 1
-- ARGV[2]  capacity: burst * interval, microseconds
-- ARGV[3]  tokens wanted, at least 1
-- Returns {granted, remaining, wait}: the tokens taken (0..wanted), the tokens still admissible at once after
-- them, and when none was granted the microseconds until one would be (0 otherwise). The key expires once its
-- bucket is full again: an absent key is a full bucket.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then
  tat = now
end
local room = math.floor((capacity - (tat - now)) / interval)
if room < 1 then
  return {0, 0, tat + interval - capacity - now}
end
local granted = math.min(wanted, room)
tat = tat + granted * interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
return {granted, room - granted, 0}
