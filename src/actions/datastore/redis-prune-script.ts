/**
 * The deletion step of prune-redis, run on the server: each candidate key is checked again —
 * type, idle time, expiry — and unlinked only if it still qualifies. Between the SCAN that found
 * a key and its deletion the application may have read it (no longer idle) or set an expiry; the
 * check and the UNLINK happen atomically here, so such a key survives.
 *
 * TYPE, PTTL and OBJECT IDLETIME do not touch a key's access time, so checking never makes a
 * key look used. The script runs over one batch only (`batch` keys), so it blocks the server for
 * no longer than a batch of cheap commands.
 *
 * ARGV[1]: minimum idle seconds, or -1; ARGV[2]: '1' when only keys without expiry qualify;
 * ARGV[3]: comma-separated allowed types, or ''. Returns the number of keys unlinked.
 */
export const UNLINK_IF_STILL_STALE = `
local idle = tonumber(ARGV[1])
local noTtl = ARGV[2] == '1'
local types = ARGV[3]
local removed = 0
for _, k in ipairs(KEYS) do
  local ok = true
  if types ~= '' then
    local t = redis.call('TYPE', k)['ok']
    if not string.find(',' .. types .. ',', ',' .. t .. ',', 1, true) then ok = false end
  end
  if ok and idle >= 0 then
    local i = redis.call('OBJECT', 'IDLETIME', k)
    if (not i) or i < idle then ok = false end
  end
  if ok and noTtl and redis.call('PTTL', k) ~= -1 then ok = false end
  if ok then removed = removed + redis.call('UNLINK', k) end
end
return removed
`;
