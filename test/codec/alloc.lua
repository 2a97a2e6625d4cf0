-- Steady-state allocation of the Lua codec bundle: 100,000 encodes and decodes with the
-- garbage collector stopped; prints the packets decoded and the heap growth in KB.
local codec = dofile("dist/lua/codec.lua")
local tx = codec.newBuffer(256)
local r = codec.newReader(64)
local o = codec.newConnectOptions()
o.clientId = "wisp-1"; o.username = "u"; o.password = "p"; o.willTopic = "dev/status"; o.willMessage = "offline"
local filters, qos, codes = { "sensors/+/t", "cmd/#" }, { 1, 2 }, { 0, 1, 2, 128 }
local parts = {}
local function enc(n) parts[#parts + 1] = codec.bufStr(tx, 0, n) end
enc(codec.encodePublish(tx, "sensors/a/t", "21.5", 1, false, false, 7))
enc(codec.encodeSuback(tx, 3, codes))
enc(codec.encodeSubscribe(tx, 4, filters, qos))
enc(codec.encodeConnect(tx, o))
enc(codec.encodeAck(tx, 6, 9))
local wire = table.concat(parts)
collectgarbage(); collectgarbage("stop")
local before = collectgarbage("count")
local pos, ready = 0, 0
for i = 1, 100000 do
  local k = i % 4
  if k == 0 then codec.encodePublish(tx, "sensors/a/t", "21.5", 1, false, false, 1 + i % 65535)
  elseif k == 1 then codec.encodeSubscribe(tx, 5, filters, qos)
  elseif k == 2 then codec.encodeConnect(tx, o)
  else codec.encodeSuback(tx, 8, codes) end
  if pos == #wire then pos = 0 end
  pos = r:feed(wire, pos)
  if r.status == 1 then ready = ready + 1 end
  if r.packet.type == 8 then r:filterAt(1) end
end
print(ready, collectgarbage("count") - before)
