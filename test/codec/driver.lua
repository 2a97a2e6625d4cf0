-- Drives dist/lua/codec.lua with the command lines of test/codec/harness.ts:
-- one command per stdin line, exactly one result line per command on stdout.
local codec = dofile("dist/lua/codec.lua")

local function unhex(h)
  if h == "_" then return "" end
  return (h:gsub("..", function(x) return string.char(tonumber(x, 16)) end))
end

local function hex(s)
  if #s == 0 then return "_" end
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function fmt(s)
  if s == nil then return "-" end
  if #s <= 64 then return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
  local sum = 0
  for i = 1, #s do sum = sum + s:byte(i) end
  return "#" .. #s .. ":" .. sum
end

local NAMES = { "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE",
  "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT" }

local function b(x) return x and 1 or 0 end

local function describe(r)
  local p = r.packet
  local function f(off, len)
    if len < 0 then return "-" end
    return fmt(r:str(off, len))
  end
  if r.status < 0 then
    if r.status == -20 then
      return "ERR-20 size=" .. p.length .. " type=" .. p.type .. " topic=" .. f(p.topicOff, p.topicLen)
    end
    return "ERR" .. r.status
  end
  local t = p.type
  if t == 1 then
    return "CONNECT clean=" .. b(p.cleanSession) .. " ka=" .. p.keepAlive .. " cid=" .. f(p.clientIdOff, p.clientIdLen)
      .. " will=" .. f(p.topicOff, p.topicLen) .. " wmsg=" .. f(p.payloadOff, p.payloadLen) .. " wq=" .. p.qos
      .. " wr=" .. b(p.retain) .. " user=" .. f(p.usernameOff, p.usernameLen) .. " pass=" .. f(p.passwordOff, p.passwordLen)
  elseif t == 2 then
    return "CONNACK sp=" .. b(p.sessionPresent) .. " rc=" .. p.returnCode
  elseif t == 3 then
    return "PUBLISH q=" .. p.qos .. " r=" .. b(p.retain) .. " d=" .. b(p.dup) .. " id=" .. p.id
      .. " topic=" .. f(p.topicOff, p.topicLen) .. " payload=" .. f(p.payloadOff, p.payloadLen)
  elseif t == 8 or t == 10 then
    local s = NAMES[t] .. " id=" .. p.id
    for i = 0, p.count - 1 do
      local o = r:filterAt(i)
      s = s .. " " .. f(o, p.itemLen)
      if t == 8 then s = s .. ":" .. p.itemQos end
    end
    return s
  elseif t == 9 then
    local s = "SUBACK id=" .. p.id
    for i = 0, p.count - 1 do s = s .. " " .. r:codeAt(i) end
    return s
  end
  if t >= 4 and t <= 11 then return NAMES[t] .. " id=" .. p.id end
  return NAMES[t]
end

local function decodeAll(r, data, chunk)
  local out = {}
  local step = chunk
  if step <= 0 then step = math.max(1, #data) end
  local c = 1
  while c <= #data do
    local s = data:sub(c, c + step - 1)
    local pos = 0
    while pos < #s do
      pos = r:feed(s, pos)
      if r.status ~= 0 then out[#out + 1] = describe(r) end
      if r.status == -2 then return table.concat(out, " | ") end
    end
    c = c + step
  end
  return table.concat(out, " | ")
end

local function opt(h)
  if h == "-" then return nil end
  return unhex(h)
end

local function run(line)
  local a = {}
  for w in line:gmatch("%S+") do a[#a + 1] = w end
  if a[1] == "D" then return decodeAll(codec.newReader(tonumber(a[2])), unhex(a[4] or "_"), tonumber(a[3])) end
  if a[1] == "M" then return codec.topicMatches(unhex(a[2]), unhex(a[3])) and "1" or "0" end
  if a[1] == "T" then return tostring(codec.checkTopic(unhex(a[2]))) end
  if a[1] == "F" then return tostring(codec.checkFilter(unhex(a[2]))) end
  local buf = codec.newBuffer(tonumber(a[2]))
  local k = a[3]
  local n
  if k == "connect" then
    local o = codec.newConnectOptions()
    o.clientId = unhex(a[4])
    o.cleanSession = a[5] == "1"
    o.keepAlive = tonumber(a[6])
    o.username = opt(a[7])
    o.password = opt(a[8])
    o.willTopic = opt(a[9])
    o.willMessage = unhex(a[10])
    o.willQos = tonumber(a[11])
    o.willRetain = a[12] == "1"
    n = codec.encodeConnect(buf, o)
  elseif k == "connack" then n = codec.encodeConnack(buf, a[4] == "1", tonumber(a[5]))
  elseif k == "publish" then
    n = codec.encodePublish(buf, unhex(a[4]), unhex(a[5]), tonumber(a[6]), a[7] == "1", a[8] == "1", tonumber(a[9]))
  elseif k == "ack" then n = codec.encodeAck(buf, tonumber(a[4]), tonumber(a[5]))
  elseif k == "empty" then n = codec.encodeEmpty(buf, tonumber(a[4]))
  elseif k == "subscribe" then
    local fs, qs = {}, {}
    local i = 5
    while i + 1 <= #a do
      fs[#fs + 1] = unhex(a[i]); qs[#qs + 1] = tonumber(a[i + 1]); i = i + 2
    end
    n = codec.encodeSubscribe(buf, tonumber(a[4]), fs, qs)
  elseif k == "suback" then
    local cs = {}
    for i = 5, #a do cs[#cs + 1] = tonumber(a[i]) end
    n = codec.encodeSuback(buf, tonumber(a[4]), cs)
  elseif k == "unsubscribe" then
    local fs = {}
    for i = 5, #a do fs[#fs + 1] = unhex(a[i]) end
    n = codec.encodeUnsubscribe(buf, tonumber(a[4]), fs)
  else
    error("bad command " .. line)
  end
  if n < 0 then return "ERR" .. n end
  return hex(codec.bufStr(buf, 0, n))
end

for line in io.lines() do
  local ok, res = pcall(run, line)
  if not ok then res = "THROW " .. tostring(res):gsub("\n", " ") end
  io.write(res, "\n")
end
