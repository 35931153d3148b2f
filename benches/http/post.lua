-- wrk script of scripts/bench-http.sh: `POST /shopping-carts` with `{"customer":"<uuid>"}`, a
-- fresh random (version 4 shaped) customer id per request, so no two requests are alike.
wrk.method = "POST"
wrk.path = "/shopping-carts"
wrk.headers["Content-Type"] = "application/json"

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

function init(args)
  -- Each thread has its own Lua state: seed each differently, or they send the same ids.
  math.randomseed(os.time() * 1000 + (number or 0))
end

local function hex16()
  return string.format("%04x", math.random(0, 0xffff))
end

function request()
  local uuid = hex16() .. hex16() .. "-" .. hex16() .. "-4" .. string.format("%03x", math.random(0, 0xfff))
    .. "-" .. string.format("%04x", 0x8000 + math.random(0, 0x3fff)) .. "-" .. hex16() .. hex16() .. hex16()
  return wrk.format(nil, nil, nil, '{"customer":"' .. uuid .. '"}')
end
