-- wrk script: POST /v1/logs bodies from BODIES_FILE (each a UInt32 little-endian length and the bytes: NDJSON,
-- OTLP protobuf or OTLP JSON), in rotation, with CONTENT_TYPE.
local f = assert(io.open(os.getenv("BODIES_FILE"), "rb"))
local data = f:read("*a")
f:close()
local bodies, i = {}, 1
while i + 3 <= #data do
  local a, b, c, d = data:byte(i, i + 3)
  local n = a + b * 256 + c * 65536 + d * 16777216
  bodies[#bodies + 1] = data:sub(i + 4, i + 3 + n)
  i = i + 4 + n
end
assert(#bodies > 0, "no bodies in " .. os.getenv("BODIES_FILE"))
local headers = {["Content-Type"] = os.getenv("CONTENT_TYPE")}
local k = 0
request = function()
  k = k % #bodies + 1
  return wrk.format("POST", "/v1/logs", headers, bodies[k])
end
