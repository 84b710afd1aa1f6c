-- wrk: each request a new payment (its own Idempotency-Key) of a varying amount to the same VA.
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = string.format("bench-%d-%d", math.random(1, 1000000000), counter)
  local body = string.format('{"payeeUserId":"%s","amountCents":%d,"currency":"USD","paymentMethod":"pm_card_visa"}', payee, 1000 + counter % 5000)
  return wrk.format(nil, nil, nil, body)
end
