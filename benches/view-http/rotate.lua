-- wrk script of scripts/bench-view-http.sh: `GET` of each path in a file, in turn, one path
-- per line (the file written by `view-http-client load`):
--   wrk -t2 -c16 -d10s --latency -s rotate.lua http://HOST:PORT -- FILE
-- Each thread starts at its own offset in the file, so the threads do not read the same rows
-- at the same time.
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

local paths = {}
local next_path = 0

function init(args)
  local file = args[1] or error("rotate.lua: pass the file of paths after `--`")
  for line in io.lines(file) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("rotate.lua: no paths in " .. file)
  end
  next_path = math.floor((number or 0) * #paths / 7)
end

function request()
  next_path = next_path % #paths + 1
  return wrk.format("GET", paths[next_path])
end
