-- wrk script: GET with the bearer token from $BATON_TOKEN.
-- wrk -t2 -c32 -d20s --latency -s bench/get_auth.lua 'http://127.0.0.1:PORT/api/v1/clients?limit=50'
local token = os.getenv("BATON_TOKEN")
if token == nil or token == "" then
  error("set BATON_TOKEN to an API token (bt_...)")
end
wrk.headers["Authorization"] = "Bearer " .. token
