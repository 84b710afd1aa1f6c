-- wrk: each request logs a new hour, never overlapping another: hour n of the day, going back a day every 20,
-- starting `first_day` days back (1 unless the script is prefixed with another, as the warm-up is).
first_day = first_day or 1
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local day = math.floor(counter / 20) + first_day
  local hour = counter % 20
  counter = counter + 1
  local date = os.date("!%Y-%m-%d", os.time() - day * 86400)
  local body = string.format('{"date":"%s","startTime":"%02d:00","endTime":"%02d:00","description":"Inbox"}', date, hour, hour + 1)
  return wrk.format(nil, nil, nil, body)
end
