-- Runtime helpers for wisp's byte intrinsics on Lua 5.3 (see ../intrinsics.ts).
-- A Bytes buffer is a table indexed from 0 with its capacity in field n; the
-- bundler keeps only the helpers the firmware references.
--@helper __wisp_new
local function __wisp_new(size)
  local b = { n = size }
  for i = 0, size - 1 do b[i] = 0 end
  return b
end
--@helper __wisp_copy
local function __wisp_copy(d, doff, s, soff, n)
  if d == s and doff > soff then
    for i = n - 1, 0, -1 do d[doff + i] = s[soff + i] end
  else
    for i = 0, n - 1 do d[doff + i] = s[soff + i] end
  end
end
--@helper __wisp_s2b
local function __wisp_s2b(str, d, off)
  local byte = string.byte
  for i = 1, #str do d[off + i - 1] = byte(str, i) end
end
--@helper __wisp_s2bn
local function __wisp_s2bn(s, soff, n, d, doff)
  local byte = string.byte
  for i = 0, n - 1 do d[doff + i] = byte(s, soff + i + 1) end
end
--@helper __wisp_b2s
local function __wisp_b2s(b, off, n)
  -- string.char takes its bytes as arguments: go in slices that fit the C stack.
  -- One slice needs no table (short strings are interned: no garbage per call).
  if n <= 4096 then
    if n <= 0 then return "" end
    return string.char(table.unpack(b, off, off + n - 1))
  end
  local parts, unpack, char = {}, table.unpack, string.char
  local i = 0
  while i < n do
    local m = n - i
    if m > 4096 then m = 4096 end
    parts[#parts + 1] = char(unpack(b, off + i, off + i + m - 1))
    i = i + m
  end
  return table.concat(parts)
end
--@helper __wisp_plain
local function __wisp_plain(s)
  -- any byte outside 1..127, or '+' (43) or '#' (35)
  return string.find(s, "[^\1-\34\36-\42\44-\127]") == nil
end
--@helper __wisp_ascii
local function __wisp_ascii(s)
  -- any byte outside 1..127
  return string.find(s, "[^\1-\127]") == nil
end
--@helper __wisp_find
local function __wisp_find(s, sub, from)
  -- 0-based index of the first `sub` at or after `from`, or -1
  local i = string.find(s, sub, from + 1, true)
  if i == nil then return -1 end
  return i - 1
end
