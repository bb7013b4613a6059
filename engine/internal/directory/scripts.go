package directory

import "github.com/redis/go-redis/v9"

// The scripts are the directory's only writes that need atomicity. Each
// takes the key prefix as ARGV[1] and builds its keys from it; the
// directory lives in one Redis (not a cluster), so scripts may touch keys
// they are not given.

// prelude is shared by every script.
const prelude = `
local P = ARGV[1]
pcall(redis.replicate_commands) -- Redis < 7: let TIME precede writes
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function node_url(node)
  return redis.call('HGET', P .. 'node:' .. node, 'url') or ''
end
-- taken counts a room's seats: reserved and unexpired, and held.
local function taken(id, now)
  local pk = P .. 'pending:' .. id
  redis.call('ZREMRANGEBYSCORE', pk, '-inf', now)
  return redis.call('ZCARD', pk) + redis.call('SCARD', P .. 'held:' .. id)
end
-- add_seat reserves (ttl > 0) or holds (ttl = 0) seat tok in room id.
local function add_seat(id, tok, ttl, now)
  local life = redis.call('PTTL', P .. 'room:' .. id)
  local exp = 0
  local k
  if ttl > 0 then
    exp = now + ttl
    k = P .. 'pending:' .. id
    redis.call('ZADD', k, exp, tok)
  else
    k = P .. 'held:' .. id
    redis.call('SADD', k, tok)
  end
  if life > 0 then redis.call('PEXPIRE', k, life) end
  return exp
end
`

// syncNodeScript registers or refreshes a node, and retires the
// placements of the rooms its load now counts.
// ARGV: prefix, id, url, load, ttl ms, placement count n, n placements,
// game names.
var syncNodeScript = redis.NewScript(prelude + `
local nk = P .. 'node:' .. ARGV[2]
redis.call('HSET', nk, 'id', ARGV[2], 'url', ARGV[3], 'load', ARGV[4])
local np = tonumber(ARGV[6])
for i = 7, 6 + np do redis.call('ZREM', P .. 'placed:' .. ARGV[2], ARGV[i]) end
for i = 7 + np, #ARGV do redis.call('HSET', nk, 'g:' .. ARGV[i], '1') end
redis.call('PEXPIRE', nk, ARGV[5])
redis.call('SADD', P .. 'nodes', ARGV[2])
return 1
`)

// syncRoomScript registers or refreshes a room. A room that is not in the
// directory (new, or expired while its node could not reach Redis) is
// created from the arguments, its held seats included; one that is only
// gets its mutable fields and expiry refreshed, so that seats taken since
// the caller's snapshot are never lost. With a seat token, it also
// reserves that seat for the seat ttl.
// ARGV: prefix, id, game, node, cap, private, locked, players, ttl ms,
// seat token, seat ttl ms, metadata count n, n key/value pairs, held tokens.
// Returns {created 0/1, seat expiry ms}.
var syncRoomScript = redis.NewScript(prelude + `
local id = ARGV[2]
local rk = P .. 'room:' .. id
local pk = P .. 'pending:' .. id
local hk = P .. 'held:' .. id
local ttl = tonumber(ARGV[9])
local created = 0
if redis.call('EXISTS', rk) == 0 then
  created = 1
  redis.call('DEL', pk, hk)
  redis.call('HSET', rk, 'id', id, 'game', ARGV[3], 'node', ARGV[4], 'cap', ARGV[5], 'private', ARGV[6])
  local i = 13
  for _ = 1, tonumber(ARGV[12]) do
    redis.call('HSET', rk, 'm:' .. ARGV[i], ARGV[i + 1])
    i = i + 2
  end
  for j = i, #ARGV do redis.call('SADD', hk, ARGV[j]) end
  redis.call('SADD', P .. 'rooms', id)
  redis.call('SADD', P .. 'game:' .. ARGV[3], id)
end
redis.call('HSET', rk, 'locked', ARGV[7], 'players', ARGV[8])
redis.call('PEXPIRE', rk, ttl)
redis.call('PEXPIRE', pk, ttl)
redis.call('PEXPIRE', hk, ttl)
local exp = 0
if ARGV[10] ~= '' then
  exp = add_seat(id, ARGV[10], tonumber(ARGV[11]), now_ms())
end
return {created, exp}
`)

// removeScript deletes a node (if ARGV[2] is not empty) and rooms.
// ARGV: prefix, node id or "", room ids.
var removeScript = redis.NewScript(prelude + `
if ARGV[2] ~= '' then
  redis.call('DEL', P .. 'node:' .. ARGV[2], P .. 'placed:' .. ARGV[2])
  redis.call('SREM', P .. 'nodes', ARGV[2])
end
for i = 3, #ARGV do
  local id = ARGV[i]
  local g = redis.call('HGET', P .. 'room:' .. id, 'game')
  redis.call('DEL', P .. 'room:' .. id, P .. 'pending:' .. id, P .. 'held:' .. id)
  redis.call('SREM', P .. 'rooms', id)
  if g then redis.call('SREM', P .. 'game:' .. g, id) end
end
return 1
`)

// claimScript reserves or holds a seat: in one room (ARGV[3]), or in the
// fullest room of the game with a free seat that matches the filters. A
// room qualifies only if its node is alive and announces a URL, or is the
// caller (ARGV[5]); join-or-create skips private and locked rooms.
// ARGV: prefix, game ("" with a room: any), room or "", only this node or "", caller node,
// seat random part, seat ttl ms (0: hold), lock key or "", lock value,
// lock ttl ms, filter count n, n key/value pairs.
// Returns {"ok", room, node, url, token, expiry ms} or {status, ...}.
var claimScript = redis.NewScript(prelude + `
local now = now_ms()
local ttl = tonumber(ARGV[7])
local function usable(node)
  if node == ARGV[5] then return true end
  local u = redis.call('HMGET', P .. 'node:' .. node, 'id', 'url')
  return u[1] and u[2] and u[2] ~= ''
end
local function seat(id, node)
  local tok = id .. '.' .. ARGV[6]
  local exp = add_seat(id, tok, ttl, now)
  return {'ok', id, node, node_url(node), tok, exp}
end
if ARGV[3] ~= '' then
  local id = ARGV[3]
  local r = redis.call('HMGET', P .. 'room:' .. id, 'node', 'cap', 'locked', 'game')
  if not r[1] or (ARGV[2] ~= '' and r[4] ~= ARGV[2]) or not usable(r[1]) then return {'notfound'} end
  if ARGV[4] ~= '' and r[1] ~= ARGV[4] then return {'elsewhere', id, r[1], node_url(r[1])} end
  if r[3] == '1' then return {'locked'} end
  local cap = tonumber(r[2])
  if cap > 0 and taken(id, now) >= cap then return {'full'} end
  return seat(id, r[1])
end
local gk = P .. 'game:' .. ARGV[2]
local nf = tonumber(ARGV[11])
local best, best_n, best_node = nil, -1, nil
for _, id in ipairs(redis.call('SMEMBERS', gk)) do
  local rk = P .. 'room:' .. id
  local r = redis.call('HMGET', rk, 'node', 'cap', 'locked', 'private')
  if not r[1] then
    redis.call('SREM', gk, id)
    redis.call('SREM', P .. 'rooms', id)
  elseif r[3] ~= '1' and r[4] ~= '1' and (ARGV[4] == '' or r[1] == ARGV[4]) and usable(r[1]) then
    local match = true
    for j = 0, nf - 1 do
      if redis.call('HGET', rk, 'm:' .. ARGV[12 + 2 * j]) ~= ARGV[13 + 2 * j] then
        match = false
        break
      end
    end
    if match then
      local cap = tonumber(r[2])
      local n = taken(id, now)
      if (cap == 0 or n < cap) and (n > best_n or (n == best_n and id < best)) then
        best, best_n, best_node = id, n, r[1]
      end
    end
  end
end
if best then return seat(best, best_node) end
if ARGV[8] == '' then return {'none'} end
if redis.call('SET', P .. 'lock:' .. ARGV[8], ARGV[9], 'NX', 'PX', ARGV[10]) then return {'create'} end
return {'busy'}
`)

// takeScript turns a reserved seat into a held one, for the node that
// hosts its room. ARGV: prefix, room, token, node.
// Returns {"ok"}, {"unknown"} or {"elsewhere", room, node, url}.
var takeScript = redis.NewScript(prelude + `
local id = ARGV[2]
local node = redis.call('HGET', P .. 'room:' .. id, 'node')
if not node then return {'unknown'} end
if node ~= ARGV[4] then return {'elsewhere', id, node, node_url(node)} end
local pk = P .. 'pending:' .. id
local s = redis.call('ZSCORE', pk, ARGV[3])
if not s then return {'unknown'} end
redis.call('ZREM', pk, ARGV[3])
if tonumber(s) <= now_ms() then return {'unknown'} end
add_seat(id, ARGV[3], 0, 0)
return {'ok'}
`)

// releaseScript frees seats of a room, reserved or held.
// ARGV: prefix, room, tokens.
var releaseScript = redis.NewScript(prelude + `
for i = 3, #ARGV do
  redis.call('ZREM', P .. 'pending:' .. ARGV[2], ARGV[i])
  redis.call('SREM', P .. 'held:' .. ARGV[2], ARGV[i])
end
return 1
`)

// unlockScript releases a creation lock if the caller still holds it.
// ARGV: prefix, lock key, lock value.
var unlockScript = redis.NewScript(prelude + `
local k = P .. 'lock:' .. ARGV[2]
if redis.call('GET', k) == ARGV[3] then redis.call('DEL', k) end
return 1
`)

// pickNodeScript chooses the live node with the lowest load that serves
// the game and announces a URL, preferring the caller (ARGV[3]) on a tie,
// then the lowest id. A node's load is the rooms its last heartbeat
// counted plus its placements: rooms placed on it that no heartbeat has
// listed yet, and whose ttl has not run out. The room about to be created
// is added as a placement of the chosen node, so that concurrent
// creations spread out, and so that a heartbeat already on its way cannot
// erase it. Expired nodes are dropped from the node set on the way.
// ARGV: prefix, game, caller node, caller serves the game ("1"/"0"),
// placement token, placement ttl ms, excluded node ids.
// Returns {id, url} or nil.
var pickNodeScript = redis.NewScript(prelude + `
local now = now_ms()
local skip = {}
for i = 7, #ARGV do skip[ARGV[i]] = true end
local best, best_load, best_url
for _, id in ipairs(redis.call('SMEMBERS', P .. 'nodes')) do
  local n = redis.call('HMGET', P .. 'node:' .. id, 'url', 'id', 'load', 'g:' .. ARGV[2])
  if not n[2] then
    redis.call('SREM', P .. 'nodes', id)
  elseif not skip[id] then
    local ok
    if id == ARGV[3] then
      ok = ARGV[4] == '1'
    else
      ok = n[1] ~= '' and n[4] == '1'
    end
    if ok then
      local pk = P .. 'placed:' .. id
      redis.call('ZREMRANGEBYSCORE', pk, '-inf', now)
      local load = (tonumber(n[3]) or 0) + redis.call('ZCARD', pk)
      if not best or load < best_load or (load == best_load and best ~= ARGV[3] and (id == ARGV[3] or id < best)) then
        best, best_load, best_url = id, load, n[1]
      end
    end
  end
end
if not best then return false end
local pk = P .. 'placed:' .. best
local ttl = tonumber(ARGV[6])
redis.call('ZADD', pk, now + ttl, ARGV[5])
redis.call('PEXPIRE', pk, ttl)
return {best, best_url}
`)
