-- wrk script: POST a note to /api/v1/clients/{id}/events, spreading the
-- requests over the client ids listed (one per line) in the file given after --.
-- BATON_TOKEN=bt_... wrk -t2 -c32 -d20s --latency -s bench/post_event.lua http://127.0.0.1:PORT -- ids.txt
local ids = {}
local counter = 0
local threads = 0

function setup(thread)
  thread:set("thread_no", threads)
  threads = threads + 1
end

function init(args)
  local file = args[1]
  if file == nil then
    error("pass the client id file after --")
  end
  for line in io.lines(file) do
    if #line > 0 then
      ids[#ids + 1] = line
    end
  end
  if #ids == 0 then
    error("no client ids in " .. file)
  end
  local token = os.getenv("BATON_TOKEN")
  if token == nil or token == "" then
    error("set BATON_TOKEN to an API token (bt_...)")
  end
  -- Threads start at different clients so they do not march in step.
  counter = (thread_no or 0) * math.floor(#ids / 2)
  wrk.method = "POST"
  wrk.body = '{"type":"note","note":"bench"}'
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local id = ids[(counter % #ids) + 1]
  return wrk.format(nil, "/api/v1/clients/" .. id .. "/events")
end
