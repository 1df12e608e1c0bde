-- POST /api/call/initiate with a fresh E.164 number per request (wrk gives each thread its own Lua state).
local counter = 0
local thread_id = 0

setup = function(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

request = function()
  counter = counter + 1
  local number = string.format("+346%02d%06d", thread_id % 100, counter % 1000000)
  local body = '{"telefono":"' .. number .. '","nombre":"Ana","saludo":"Hello Ana, this is the clinic."}'
  return wrk.format("POST", "/api/call/initiate", { ["Content-Type"] = "application/json" }, body)
end
