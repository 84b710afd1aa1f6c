"""The chat benchmark's client: opens WebSocket connections through the runner's gateway and measures how
long a message posted over HTTP takes to reach the recipient's socket. Run by bench/chat.sh."""
import asyncio, json, sys, time, urllib.request, uuid
import websockets

BASE = "http://127.0.0.1:3000/api"
WS = "ws://127.0.0.1:3000/api/ws?token="

def call(method, path, token=None, body=None):
    request = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("content-type", "application/json")
    if token: request.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")

def register(role):
    session = call("POST", "/auth/register", body={"email": f"{role}-{uuid.uuid4().hex[:10]}@bench.example", "password": "benchmark password", "role": role})
    return session["accessToken"], session["user"]["id"]

def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

class Socket:
    def __init__(self, connection):
        self.connection = connection
        self.arrived = {}
        self.reader = asyncio.create_task(self.read())

    async def read(self):
        try:
            async for text in self.connection:
                message = json.loads(text)
                if message.get("type") == "message.new":
                    self.arrived[message["data"]["content"]] = time.perf_counter()
                elif message.get("type") == "pong":
                    self.arrived["pong"] = time.perf_counter()
        except websockets.ConnectionClosed:
            pass

async def connect(token):
    return Socket(await websockets.connect(WS + token, max_size=1 << 20, open_timeout=30))

async def wait_for(socket, key, limit=5.0):
    deadline = time.perf_counter() + limit
    while key not in socket.arrived and time.perf_counter() < deadline:
        await asyncio.sleep(0.0005)
    return socket.arrived.get(key)

async def main(connections, messages):
    loop = asyncio.get_running_loop()
    sender_token, _ = register("company")

    # 1. Hold `connections` sockets: recipients with four tabs each.
    tabs = 4
    recipients = [register("va") for _ in range(connections // tabs)]
    sockets = {}
    started = time.perf_counter()
    semaphore = asyncio.Semaphore(32)
    async def open_tab(token, user):
        async with semaphore:
            sockets.setdefault(user, []).append(await connect(token))
    await asyncio.gather(*(open_tab(token, user) for token, user in recipients for _ in range(tabs)))
    opened = sum(len(s) for s in sockets.values())
    print(f"connections open: {opened} in {time.perf_counter() - started:.1f} s")

    # 2. Latency, with every connection open: POST a message, time until the recipient's socket has it;
    #    beside it the POST's own round trip and a WebSocket ping/pong, in the same run.
    token, user = recipients[0]
    conversation = call("POST", "/chat/conversations", sender_token, {"userId": user})["id"]
    socket = sockets[user][0]
    push, post, pong = [], [], []
    for index in range(messages):
        content = f"latency-{index}"
        sent = time.perf_counter()
        await loop.run_in_executor(None, call, "POST", f"/chat/conversations/{conversation}/messages", sender_token, {"content": content})
        answered = time.perf_counter()
        arrived = await wait_for(socket, content)
        if arrived is None:
            print(f"message {index} never arrived", file=sys.stderr); continue
        push.append((arrived - sent) * 1000)
        post.append((answered - sent) * 1000)
        socket.arrived.pop("pong", None)
        pinged = time.perf_counter()
        await socket.connection.send(json.dumps({"action": "ping"}))
        ponged = await wait_for(socket, "pong")
        if ponged: pong.append((ponged - pinged) * 1000)
    for name, values in [("POST /chat/…/messages → recipient's socket", push), ("baseline: POST /chat/…/messages answered", post), ("baseline: WebSocket ping → pong", pong)]:
        print(f"{name:<46} n={len(values):4d}  p50 {percentile(values, 50):6.2f} ms  p99 {percentile(values, 99):6.2f} ms  max {max(values):6.2f} ms")

    # 3. Fan-out: one message to each recipient; every one of its four tabs must get it.
    conversations = {}
    for _, user in recipients:
        conversations[user] = call("POST", "/chat/conversations", sender_token, {"userId": user})["id"]
    started = time.perf_counter()
    async def send_to(user):
        async with semaphore:
            await loop.run_in_executor(None, call, "POST", f"/chat/conversations/{conversations[user]}/messages", sender_token, {"content": "fanout"})
    await asyncio.gather(*(send_to(user) for user in conversations))
    deadline = time.perf_counter() + 15
    while time.perf_counter() < deadline and not all("fanout" in s.arrived for tabs_ in sockets.values() for s in tabs_):
        await asyncio.sleep(0.01)
    delivered = sum(1 for tabs_ in sockets.values() for s in tabs_ if "fanout" in s.arrived)
    print(f"fan-out: {len(conversations)} messages, pushed to {delivered} of {opened} connections in {time.perf_counter() - started:.2f} s")
    for tabs_ in sockets.values():
        for s in tabs_:
            await s.connection.close()
    return 0 if delivered == opened and len(push) == messages else 1

if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]))))
