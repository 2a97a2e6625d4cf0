/**
 * The same client source on Lua 5.3 (dist/lua/client.lua, typescript-to-lua): a
 * scripted session through a Platform table: CONNECT bytes, CONNACK, QoS 1 publish
 * and PUBACK, incoming QoS 1/2 with their acks, exactly-once for a re-sent QoS 2,
 * keep-alive PINGREQ and dead link, in-flight full.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runLua } from "../helpers/artifacts.ts";
import { skipUnless } from "../helpers/system-deps.ts";

const SCRIPT = String.raw`
local w = dofile("dist/lua/client.lua")
local now, out, timers, handler = 0, {}, {}, nil
local function hex(s) return (s:gsub(".", function(ch) return string.format("%02x", ch:byte()) end)) end
local link = { write = function(self, d) out[#out + 1] = hex(d); return true end, close = function(self) out[#out + 1] = "close" end }
local P = {
  millis = function(self) return now end,
  after = function(self, ms, fn) timers[#timers + 1] = { at = now + ms, fn = fn }; return #timers end,
  cancel = function(self, id) if timers[id] then timers[id].fn = nil end end,
  open = function(self, host, port, secure, h) handler = h; return link end,
  wifiUp = function(self) return true end,
  random = function(self) return 0.5 end,
  log = function(self, l) print("log " .. l) end,
  storageRead = function(self, n) return nil end,
  storageWrite = function(self, n, d) return true end,
}
local function advance(ms)
  local target = now + ms
  while true do
    local best = nil
    for i, t in ipairs(timers) do if t.fn and t.at <= target and (best == nil or t.at < timers[best].at) then best = i end end
    if best == nil then break end
    local t = timers[best]; now = t.at; local fn = t.fn; t.fn = nil; fn()
  end
  now = target
end
local cfg = w.newClientConfig()
cfg.host = "h"; cfg.inflight = 2; cfg.connect.clientId = "lua1"; cfg.connect.keepAlive = 2
local c = w.newClient(P, cfg)
c.onMessage = function(t, p, q, r) print("msg " .. t .. "=" .. p .. " q" .. q) end
c.onPublished = function(id) print("acked " .. id) end
c.onError = function(code, d) print("error " .. w.clientErrorName(code)) end
c:connect()
handler:onOpen()
print("out " .. out[#out])
handler:onData("\32\2\0\0")
print("connected " .. tostring(c:connected()))
print("id " .. c:publish("t/a", "hi", 1, false))
print("out " .. out[#out])
handler:onData("\64\2\0\1")
handler:onData("\50\9\0\3t/b\0\7xy")
print("out " .. out[#out])
handler:onData("\52\9\0\3t/c\0\8zz")
handler:onData("\60\9\0\3t/c\0\8zz")
print("out " .. out[#out - 1] .. " " .. out[#out])
handler:onData("\98\2\0\8")
print("out " .. out[#out])
print("id " .. c:publish("t/a", "1", 1, false) .. " " .. c:publish("t/a", "2", 2, false) .. " " .. c:publish("t/a", "3", 1, false))
advance(2000)
print("out " .. out[#out])
advance(1000)
print("out " .. out[#out])
`;

test("the client on Lua 5.3: connect, publish, receive, exactly-once QoS 2, keep-alive", { skip: skipUnless("lua5.3") }, () => {
  const lines = runLua(SCRIPT).trim().split("\n");
  assert.deepEqual(lines, [
    "out 101000044d5154540402000200046c756131", // CONNECT: MQTT level 4, clean session, keep-alive 2, id lua1
    "log mqtt connected session=0",
    "connected true",
    "id 1",
    "out 32090003742f6100016869", // PUBLISH QoS 1 id 1
    "acked 1",
    "msg t/b=xy q1",
    "out 40020007", // PUBACK 7
    "msg t/c=zz q2", // delivered once ...
    "out 50020008 50020008", // ... though PUBREC went out twice
    "out 70020008", // PUBREL -> PUBCOMP
    "id 2 3 -30", // in-flight full
    "out c000", // PINGREQ after 2 s idle
    "log mqtt: no answer to PINGREQ: link dead", // no answer within 1 s more
    "error no answer to PINGREQ: link dead",
    "log mqtt: closed (no answer to PINGREQ: link dead)",
    "log mqtt: reconnect in 750 ms",
    "out close",
  ]);
});
