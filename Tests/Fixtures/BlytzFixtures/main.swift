// Handlers the runner's integration tests drive through real processes: each one shows one behaviour
// (a crash, a hang, a slow call, binary bodies, a queue batch, a schedule, WebSocket routes).
#if canImport(Glibc)
import Glibc
#endif
import Blytz
import HTTPTypes
import Logging
import BlytzData
import SQLKit

/// Answers everything it was given, so tests can check the event the worker saw.
struct Inspect: HTTPFunction {
    static let access = Open()

    struct Output: Codable, ResponseBody {
        var method: String
        var path: String
        var pathParameters: [String: String]
        var query: [String: String]
        var headers: [String: String]
        var bodyBase64: String
        var requestId: String
        var traceparent: String?
        var pid: Int32
        var remainingMs: Int64
    }

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        context.logger.info("inspecting", metadata: ["path": "\(request.path)"])
        return .ok(Output(
            method: request.method.rawValue, path: request.path, pathParameters: request.pathParameters, query: request.query,
            headers: request.headers.gatewayHeaders, bodyBase64: request.body.base64EncodedString(), requestId: context.requestId,
            traceparent: context.traceparent, pid: getpid(), remainingMs: context.remainingTime.components.seconds * 1000
        ))
    }
}

/// Sends the request body back byte for byte with the request's content type.
struct Mirror: HTTPFunction {
    static let access = Open()

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Bytes> {
        .ok(Bytes(request.body, contentType: request.header(.contentType) ?? "application/octet-stream"))
    }
}

/// Kills its own process in the middle of the invocation.
struct Crash: HTTPFunction {
    static let access = Open()

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        kill(getpid(), SIGKILL)
        return .noContent
    }
}

/// Never answers: a busy loop that ignores everything.
struct Hang: HTTPFunction {
    static let access = Open()

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        var spin = 0
        while true { spin &+= 1 }
    }
}

/// Waits `?ms=` milliseconds, then answers its pid.
struct Slow: HTTPFunction {
    static let access = Open()

    struct Output: Codable, ResponseBody {
        var pid: Int32
        var waitedMs: Int
    }

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let milliseconds = request.query["ms"].flatMap(Int.init) ?? 100
        try await Task.sleep(for: .milliseconds(milliseconds))
        return .ok(Output(pid: getpid(), waitedMs: milliseconds))
    }
}

/// Throws an error that is not an HTTP error: the client must see a generic 500.
struct Throw: HTTPFunction {
    static let access = Open()

    struct SecretFailure: Error { var secret = "database password is hunter2" }

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        throw SecretFailure()
    }
}

/// A typed input with nested fields and validation.
struct CreateThing: HTTPFunction {
    static let access = Open()

    struct Input: Codable, Sendable, Validatable {
        struct Price: Codable, Sendable {
            var amountCents: Int
            var currency: String
        }

        var title: String
        var price: Price
        var tags: [String]?

        func validate() -> [Problem.FieldError] {
            var errors: [Problem.FieldError] = []
            if title.count < 3 { errors.append(.init(field: "title", message: "must be at least 3 characters")) }
            if price.amountCents < 0 { errors.append(.init(field: "price.amountCents", message: "must not be negative")) }
            if price.currency.count != 3 { errors.append(.init(field: "price.currency", message: "must be an ISO-4217 code")) }
            return errors
        }
    }

    struct Output: Codable, ResponseBody {
        var id: String
        var title: String
    }

    func handle(_ request: FunctionRequest<Input>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        .created(Output(id: context.requestId, title: try request.input.title), location: "/things/\(context.requestId)")
    }
}

/// A queue consumer of `ThingHappened`: events with `fail: true` fail (poison), those with `failUntil`
/// fail until that file exists; the others are recorded once in the inbox.
struct Consume: QueueFunction {
    struct Thing: Codable, Sendable {
        var n: Int
        var fail: Bool?
        var failUntil: String?
    }

    func handle(_ message: EventEnvelope<Thing>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        struct Refused: Error {}
        if message.data.fail == true { throw Refused() }
        if let path = message.data.failUntil, !FileManager.default.fileExists(atPath: path) { throw Refused() }
        try await context.database.once(event: message.id, consumer: context.functionName) { _ in }
    }
}

/// A queue consumer of `HitRecorded`: records each event once in the inbox, with how long it took from
/// publishing to reaching this handler.
struct OnHit: QueueFunction {
    func handle(_ message: EventEnvelope<[String: String]>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        let published = (try? Date(message.time, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? Date()
        let latency = Date().timeIntervalSince(published) * 1000
        let id = message.id
        try await context.database.once(event: id, consumer: context.functionName) { sql in
            try await sql.insert(into: "latencies").columns("event_id", "ms").values(SQLBind(id), SQLBind(latency)).run()
        }
    }
}

/// The batch form of `OnHit`: one transaction per batch records every new event and its latency. Every
/// event it is handed is counted first, in a transaction of its own (`handed`), so that a benchmark sees
/// how many events were delivered more than once.
struct OnHitBatch: QueueBatchFunction {
    func handle(_ batch: [QueueItem<EventEnvelope<[String: String]>>], context: FunctionContext) async throws -> [String] {
        try await context.database.transaction { sql in
            var insert = sql.insert(into: "handed").columns("event_id")
            for item in batch { insert = insert.values(SQLBind(item.message.id)) }
            try await insert.run()
        }
        let now = Date()
        let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let latencies = Dictionary(batch.map { item in
            (item.message.id, now.timeIntervalSince((try? Date(item.message.time, strategy: format)) ?? now) * 1000)
        }) { first, _ in first }
        try await context.database.once(events: batch.map(\.message.id), consumer: "fx-on-hit") { sql, fresh in
            var insert = sql.insert(into: "latencies").columns("event_id", "ms")
            for id in fresh { insert = insert.values(SQLBind(id), SQLBind(latencies[id] ?? 0)) }
            try await insert.run()
        }
        return []
    }
}

/// The fixtures' own event: a hit recorded by `fx-hit` or `fx-burst`.
struct HitRecorded: Event {
    static let type: EventType = "HitRecorded"
    var hit: String
    var subject: String { hit }
}

/// `POST /fx/burst?n=`: publishes n `HitRecorded` events in one transaction.
struct Burst: HTTPFunction {
    static let access = Open()

    struct Output: Codable, ResponseBody { var published: Int }

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let count = min(max(request.query["n"].flatMap(Int.init) ?? 1, 1), 100_000)
        try await context.database.transaction { sql in
            for index in 0..<count {
                try await context.publish(HitRecorded(hit: "\(index)"), on: sql)
            }
        }
        return .ok(Output(published: count))
    }
}

/// `POST /fx/doomed`: commits a `HitRecorded` and kills its own process before it can answer (or hand its
/// outbox over): what it committed must still be delivered.
struct Doomed: HTTPFunction {
    static let access = Open()

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        try await context.database.transaction { sql in
            try await context.publish(HitRecorded(hit: "doomed"), on: sql)
        }
        kill(getpid(), SIGKILL)
        return .noContent
    }
}

/// `GET /fx/latency`: publish-to-consumer latency percentiles of every `HitRecorded` seen.
struct Latency: HTTPFunction {
    static let access = Open()

    struct Output: Codable, ResponseBody { var count: Int; var p50: Double; var p99: Double }

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        struct Row: Decodable { var ms: Double }
        let values = try await context.database.withConnection { sql in
            try await sql.select().column("ms").from("latencies").orderBy("ms").all(decoding: Row.self).map(\.ms)
        }
        func percentile(_ p: Double) -> Double { values.isEmpty ? 0 : values[Int((p / 100 * Double(values.count - 1)).rounded())] }
        return .ok(Output(count: values.count, p50: percentile(50), p99: percentile(99)))
    }
}

/// A queue consumer of `Fragile` that dies: on an event's first delivery it commits the effects of the
/// `{"die": true}` event and then kills its own process, before the batch is acknowledged.
struct Fragile: QueueFunction {
    struct Payload: Codable, Sendable { var die: Bool? }

    func handle(_ message: EventEnvelope<Payload>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        try await context.database.once(event: message.id, consumer: context.functionName) { _ in }
        if message.data.die == true && metadata.receiveCount == 1 { kill(getpid(), SIGKILL) }
    }
}

/// A slow queue consumer of `HitRecorded`: 10 ms per event, then the event recorded once under the
/// function's name (the consumer benchmark's, at different `scaling.max`).
struct SlowConsumer: QueueFunction {
    func handle(_ message: EventEnvelope<[String: String]>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        try await Task.sleep(for: .milliseconds(10))
        try await context.database.once(event: message.id, consumer: context.functionName) { _ in }
    }
}

/// A slow queue consumer of `Lagged`: each event takes `ms` milliseconds, so the ones behind it wait.
struct Lag: QueueFunction {
    struct Payload: Codable, Sendable { var ms: Int }

    func handle(_ message: EventEnvelope<Payload>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        try await Task.sleep(for: .milliseconds(message.data.ms))
    }
}

/// `GET /fx/seen?consumer=`: how many events that consumer has processed.
struct Seen: HTTPFunction {
    static let access = Open()

    /// `seen`: processed once (the inbox); `handed`: deliveries to `fx-on-hit-batch`, of `handedEvents` events.
    struct Output: Codable, ResponseBody { var seen: Int; var handed: Int; var handedEvents: Int }

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let consumer = request.query["consumer"] ?? ""
        struct Count: Decodable { var count: Int }
        let counts = try await context.database.withConnection { sql in
            let seen = try await sql.raw("SELECT COUNT(*) AS count FROM _blytz_inbox WHERE consumer = \(bind: consumer)").first(decoding: Count.self)?.count ?? 0
            let handed = try await sql.raw("SELECT COUNT(*) AS count FROM handed").first(decoding: Count.self)?.count ?? 0
            let events = try await sql.raw("SELECT COUNT(DISTINCT event_id) AS count FROM handed").first(decoding: Count.self)?.count ?? 0
            return Output(seen: seen, handed: handed, handedEvents: events)
        }
        return .ok(counts)
    }
}

/// A schedule: appends the firing's time to `ticks` in the data directory.
struct Tick: ScheduleFunction {
    func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
        let path = (context.configuration["BLYTZ_DATA_DIR"] ?? "/tmp") + "/ticks"
        let line = "\(event.time)\n"
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { return }
        _ = line.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}

/// `$connect`: only `?token=good` may connect.
struct Connect: WebSocketFunction {
    func handle(_ event: APIGatewayWebSocketRequest, context: FunctionContext) async throws -> APIGatewayWebSocketResponse {
        guard event.queryStringParameters?["token"] == "good" else {
            return APIGatewayWebSocketResponse(statusCode: 401, body: "a valid token is required")
        }
        return APIGatewayWebSocketResponse(statusCode: 200)
    }
}

/// `$default`: pushes `pushed:<body>` through the management endpoint, and replies `echo:<body>`.
struct Default: WebSocketFunction {
    func handle(_ event: APIGatewayWebSocketRequest, context: FunctionContext) async throws -> APIGatewayWebSocketResponse {
        let body = event.body ?? ""
        try await context.connections.post(Data("pushed:\(body)".utf8), to: event.requestContext.connectionId)
        if body == "close me" { try await context.connections.close(event.requestContext.connectionId) }
        return APIGatewayWebSocketResponse(statusCode: 200, body: "echo:\(body)")
    }
}

/// The named action `shout`.
struct Shout: WebSocketFunction {
    func handle(_ event: APIGatewayWebSocketRequest, context: FunctionContext) async throws -> APIGatewayWebSocketResponse {
        APIGatewayWebSocketResponse(statusCode: 200, body: (event.body ?? "").uppercased())
    }
}

/// `$disconnect`: records the connection id in `disconnects` in the data directory.
struct Disconnect: WebSocketFunction {
    func handle(_ event: APIGatewayWebSocketRequest, context: FunctionContext) async throws -> APIGatewayWebSocketResponse {
        let path = (context.configuration["BLYTZ_DATA_DIR"] ?? "/tmp") + "/disconnects"
        let line = "\(event.requestContext.connectionId)\n"
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        if fd >= 0 {
            _ = line.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        return APIGatewayWebSocketResponse(statusCode: 200)
    }
}

/// Records a hit in the service's database, publishes `HitRecorded`, and answers how many hits there are,
/// all in one transaction.
struct Hit: HTTPFunction {
    static let access = Open()

    struct Output: Codable, ResponseBody {
        var hits: Int
        var engine: String
    }

    func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let database = try context.database
        let requestId = context.requestId
        let hits = try await database.transaction { sql in
            try await sql.insert(into: "hits").columns("id", "at").values(SQLBind(requestId), SQLBind(Date().formatted(.iso8601))).run()
            try await context.publish(HitRecorded(hit: requestId), on: sql)
            struct Count: Decodable { var count: Int }
            return try await sql.raw("SELECT COUNT(*) AS count FROM hits").first(decoding: Count.self)?.count ?? 0
        }
        return .ok(Output(hits: hits, engine: database.engine.rawValue))
    }
}

let migrations = [
    Migration(1, "create hits") { sql in
        try await sql.create(table: "hits")
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("at", type: .text, .notNull)
            .run()
    },
    Migration(2, "create latencies") { sql in
        try await sql.create(table: "latencies")
            .column("event_id", type: .text, .primaryKey(autoIncrement: false))
            .column("ms", type: .real, .notNull)
            .run()
    },
    Migration(3, "create handed") { sql in
        try await sql.create(table: "handed").column("event_id", type: .text, .notNull).run()
    },
]

ServiceMain.main(functions: [
    "fx-inspect": Inspect(),
    "fx-mirror": Mirror(),
    "fx-crash": Crash(),
    "fx-hang": Hang(),
    "fx-slow": Slow(),
    "fx-scaled": Slow(),
    "fx-warm": Slow(),
    "fx-throw": Throw(),
    "fx-create": CreateThing(),
    "fx-queue": Consume(),
    "fx-tick": Tick(),
    "fx-ws-connect": Connect(),
    "fx-ws-default": Default(),
    "fx-ws-shout": Shout(),
    "fx-ws-disconnect": Disconnect(),
    "fx-hit": Hit(),
    "fx-doomed": Doomed(),
    "fx-on-hit": OnHit(),
    "fx-seen": Seen(),
    "fx-fragile": Fragile(),
    "fx-lag": Lag(),
    "fx-slow-1": SlowConsumer(),
    "fx-slow-4": SlowConsumer(),
    "fx-burst": Burst(),
    "fx-on-hit-batch": OnHitBatch(),
    "fx-latency": Latency(),
], migrations: migrations)
