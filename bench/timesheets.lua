-- wrk: each request logs a new hour, never overlapping another: hour n of the day, going back a day every 20.
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local day = math.floor(counter / 20) + 1
  local hour = counter % 20
  counter = counter + 1
  local date = os.date("!%Y-%m-%d", os.time() - day * 86400)
  local body = string.format('{"date":"%s","startTime":"%02d:00","endTime":"%02d:00","description":"Inbox"}', date, hour, hour + 1)
  return wrk.format(nil, nil, nil, body)
end
