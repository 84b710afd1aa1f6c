import Blytz
import BlytzData
import BlytzEvents
import BlytzManifest
import BlytzServices
import Foundation
import HTTPTypes
import JWTKit
import Logging
import SQLKit
import Synchronization

/// A wall clock that moves only when a test says: what handlers read as `context.now`.
public final class ManualTime: Sendable {
    private let current: Mutex<Date>

    public init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) {
        current = Mutex(start)
    }

    public var now: Date { current.withLock { $0 } }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) {
        current.withLock { $0 = $0.adding(duration) }
    }

    /// Sets the clock to `date`, as when a test checks what a real outside server signed just now.
    public func set(_ date: Date) {
        current.withLock { $0 = date }
    }
}

/// Who a test request comes from.
public enum TestIdentity: Sendable {
    /// A person with `role`.
    case person(String, Role)
    /// `service` on its own, or acting for a person.
    case service(ServiceName, actingFor: (userId: String, role: Role)? = nil)
}

/// Fresh databases for tests: a new SQLite file, or a new database on the test PostgreSQL server
/// (`BLYTZ_TEST_POSTGRES_URL`, which `./local/test` starts).
public enum TestDatabase {
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    public static func fresh(_ engine: ServiceDatabase.Engine) async throws -> ServiceDatabase {
        let logger = Logger(label: "test-db")
        switch engine {
        case .sqlite:
            return try ServiceDatabase.open(.sqlite(path: NSTemporaryDirectory() + "blytz-\(UUID().uuidString).sqlite"), logger: logger)
        case .postgres:
            return try ServiceDatabase.open(.postgres(url: try await newPostgresURL()), logger: logger)
        }
    }

    /// Runs `body` with a fresh database of `engine` and always shuts it down.
    public static func with<T>(_ engine: ServiceDatabase.Engine, _ body: (ServiceDatabase) async throws -> T) async throws -> T {
        try await using(try await fresh(engine), cleanup: { await $0.shutdown() }, body)
    }

    /// The URL of a database on the test PostgreSQL server that does not exist yet (a service creates it).
    public static func unusedPostgresURL() throws -> String {
        guard let server = ProcessInfo.processInfo.environment["BLYTZ_TEST_POSTGRES_URL"], var components = URLComponents(string: server) else {
            throw Unavailable(description: "BLYTZ_TEST_POSTGRES_URL is not set: run the tests with ./local/test, which starts PostgreSQL")
        }
        components.path = "/t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        return components.string!
    }

    /// The URL of a new, empty database on the test PostgreSQL server.
    public static func newPostgresURL() async throws -> String {
        let url = try unusedPostgresURL()
        let name = String(URLComponents(string: url)!.path.dropFirst())
        let server = ProcessInfo.processInfo.environment["BLYTZ_TEST_POSTGRES_URL"]!
        let admin = try ServiceDatabase.open(.postgres(url: server), maxConnections: 1, logger: Logger(label: "test-db"))
        try await using(admin, cleanup: { await $0.shutdown() }) { admin in
            try await admin.withConnection { sql in try await sql.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
        }
        return url
    }
}

/// One service in process, as its workers run it: its migrated database (a temporary SQLite file or a
/// throwaway PostgreSQL database), its setup, a manual clock, tokens for any identity, and other
/// services' URLs (stand-ins on real sockets). Handlers are called directly, through the same bytes path
/// the runtime uses; what they publish is read back from the outbox.
///
/// ```
/// try await ServiceHarness<Users>.with(.sqlite) { users in
///     let response = try await users.http("users-me", .get("/auth/me"), as: .person(id, .va))
///     #expect(response.status == 404)
/// }
/// ```
public struct ServiceHarness<Service: BlytzService>: Sendable {
    public let database: ServiceDatabase
    public let time: ManualTime
    public let configuration: Configuration
    public let dependencies: Dependencies
    let signer: JWTKeyCollection
    /// The routes of `functions.yaml`, when the tests run beside it.
    let routes: RouteTable?

    /// Runs `body` with the service set up on `engine`; `configuration` adds to the worker's environment and
    /// `services` points calls to other services at stand-ins.
    public static func with<T>(
        _ engine: ServiceDatabase.Engine, configuration: [String: String] = [:], services: [ServiceName: String] = [:],
        _ body: (ServiceHarness) async throws -> T
    ) async throws -> T {
        let harness = try await make(engine, configuration: configuration, services: services)
        do {
            let result = try await body(harness)
            await harness.dependencies.shutdown()
            return result
        } catch {
            await harness.dependencies.shutdown()
            throw error
        }
    }

    static func make(_ engine: ServiceDatabase.Engine, configuration extra: [String: String], services: [ServiceName: String]) async throws -> ServiceHarness {
        let logger = Logger(label: "harness")
        let directory = NSTemporaryDirectory() + "blytz-harness-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var values = [
            "BLYTZ_SERVICE": Service.name.rawValue, "BLYTZ_DATA_DIR": directory, "BLYTZ_SERVICE_KEY": UUID().uuidString,
            // A stand-in on a loaded test machine may take longer than production's call timeout to answer.
            "BLYTZ_CALL_TIMEOUT_MS": "10000",
        ]
        for service in ServiceName.allCases { values["BLYTZ_SERVICE_URL_\(service.rawValue.uppercased())"] = "http://127.0.0.1:9" }
        for (service, url) in services { values["BLYTZ_SERVICE_URL_\(service.rawValue.uppercased())"] = url }
        values.merge(extra) { $1 }
        let configuration = Configuration(values)
        let database = try await TestDatabase.fresh(engine)
        _ = try await Migrator(service: Service.name.rawValue, migrations: Service.migrations).migrate(database, logger: logger)
        let time = ManualTime()
        var dependencies = Dependencies(now: { time.now })
        dependencies[DatabaseKey.self] = database
        dependencies.onShutdown { await database.shutdown() }
        try await Service.setup(configuration, logger, &dependencies)
        // Tokens are the harness's own; whether the subject may act stays the service's rule.
        let key = ES256PrivateKey()
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: key, kid: "harness")
        let keys = await SigningKeys(["harness": key.publicKey])
        let serviceRule = dependencies[AuthenticatorKey.self]?.isActive
        let isActive: @Sendable (String) async throws -> Bool = { userId in
            if let serviceRule { return try await serviceRule(userId) }
            return try await AccountStatus.isActive(userId, in: database)
        }
        dependencies[AuthenticatorKey.self] = Authenticator(verifier: TokenVerifier(keys: FixedKeys(keys: keys)), isActive: isActive)
        let routes = (try? Manifest.load(path: "functions.yaml")).map(RouteTable.init(manifest:))
        return ServiceHarness(database: database, time: time, configuration: configuration, dependencies: dependencies, signer: signer, routes: routes)
    }

    /// A context for `function`, reading the harness's clock.
    public func context(_ function: String = "test-function", requestId: String = UUID().uuidString.lowercased()) -> FunctionContext {
        TestContext.make(function: function, requestId: requestId, configuration: configuration.values, dependencies: dependencies)
    }

    /// A bearer token for `identity`, valid for 15 minutes of the harness's clock.
    public func token(_ identity: TestIdentity) async throws -> String {
        let claims: AccessClaims
        switch identity {
        case .person(let userId, let role):
            claims = AccessClaims(userId: userId, role: role, issuedAt: time.now, expiresAt: time.now.adding(.seconds(900)))
        case .service(let service, let person):
            claims = AccessClaims(
                userId: person?.userId ?? Caller.serviceSubject(service), role: person?.role ?? .service, service: service,
                issuedAt: time.now, expiresAt: time.now.adding(.seconds(900))
            )
        }
        return try await signer.sign(claims, kid: "harness")
    }

    /// Calls the HTTP function `function` of the service with `request`, signed in as `identity`.
    public func http(_ function: String, _ request: HandlerTester.Request, as identity: TestIdentity? = nil) async throws -> HandlerTester.Response {
        guard let handler = Service.functions[function] as? any HTTPFunction else { throw Unknown(function: function) }
        var request = request
        if let identity { request.headers[.authorization] = "Bearer \(try await token(identity))" }
        let response = try await HandlerTester.http(handler, request, context: context(function))
        ResponseLog.record(method: request.method.rawValue, path: request.path, status: response.status.code, contentType: response.headers[.contentType], body: response.body)
        return response
    }

    /// `method target` (a path with its query, as a client sends it) routed as `functions.yaml` routes it to
    /// one of the service's functions, with an optional JSON body, signed in as `identity`. A path no
    /// function of the service serves answers 404, a method it does not take 405, as the runner does.
    public func call(_ method: HTTPRequest.Method, _ target: String, json: String? = nil, as identity: TestIdentity? = nil) async throws -> HandlerTester.Response {
        guard let routes else { throw Unknown(function: "\(method) \(target) (no functions.yaml here)") }
        let parts = target.split(separator: "?", maxSplits: 1).map(String.init)
        var query: [String: String] = [:]
        for pair in (parts.count > 1 ? parts[1] : "").split(separator: "&") {
            let field = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
            query[field[0]] = field.count > 1 ? field[1] : ""
        }
        switch routes.match(method: method.rawValue, path: parts[0], service: Service.name.rawValue) {
        case .function(let function, let parameters):
            let request = HandlerTester.Request(
                method: method, path: parts[0], pathParameters: parameters, query: query,
                headers: json == nil ? [:] : [.contentType: "application/json"], body: json.map { Data($0.utf8) }
            )
            return try await http(function, request, as: identity)
        case .methodNotAllowed:
            return HandlerTester.Response(status: .methodNotAllowed)
        case .notFound:
            return HandlerTester.Response(status: .notFound)
        }
    }

    /// Delivers `events` to the queue function `function` as one batch; returns the ids of the messages it
    /// reported failed (`m0`, `m1`, … in order).
    /// `id` and `at` set the envelope's id and time (as for a repeated or a late delivery).
    @discardableResult
    public func deliver(_ events: [any Event], to function: String, source: String = "test", id: String? = nil, at: Date? = nil) async throws -> [String] {
        guard let handler = Service.functions[function] else { throw Unknown(function: function) }
        let records = try events.enumerated().map { index, event in
            let body = try Self.envelope(event, source: source, time: at ?? time.now, id: id)
            return SQSEvent.Message(messageId: "m\(index)", body: String(decoding: body, as: UTF8.self), queue: function)
        }
        let output = try await handler.invoke(try JSON.encoder().encode(SQSEvent(records: records)), context: context(function))
        return try JSON.decoder().decode(SQSBatchResponse.self, from: output).batchItemFailures.map(\.itemIdentifier)
    }

    /// Runs the schedule function `function` once.
    public func fire(_ function: String) async throws {
        guard let handler = Service.functions[function] else { throw Unknown(function: function) }
        let event = ScheduledEvent(id: UUID().uuidString, time: time.now.iso, rule: function)
        _ = try await handler.invoke(try JSON.encoder().encode(event), context: context(function))
    }

    /// Hands the WebSocket function `function` a message (or a connect or disconnect, by `route`) on
    /// `connectionId`, as the runner does; returns its answer.
    public func webSocket(_ function: String, route: String, body: String? = nil, connectionId: String = "test-connection") async throws -> APIGatewayWebSocketResponse {
        guard let handler = Service.functions[function] else { throw Unknown(function: function) }
        let kind = switch route { case "$connect": "CONNECT"; case "$disconnect": "DISCONNECT"; default: "MESSAGE" }
        let now = Int64(time.now.timeIntervalSince1970 * 1000)
        let event = APIGatewayWebSocketRequest(
            requestContext: .init(
                routeKey: route, eventType: kind, connectionId: connectionId, requestId: UUID().uuidString, messageId: kind == "MESSAGE" ? UUID().uuidString : nil,
                domainName: "localhost", connectedAt: now, requestTimeEpoch: now
            ),
            body: body
        )
        let output = try await handler.invoke(try JSON.encoder().encode(event), context: context(function))
        return try JSON.decoder().decode(APIGatewayWebSocketResponse.self, from: output)
    }

    /// The events the service published (its outbox, sent or not), oldest first.
    public func published() async throws -> [EventEnvelope<AnyEvent>] {
        try await published(after: 0)
    }

    /// The events published since the outbox stood at `seq` (see `outboxSeq()`), in order.
    public func published(after seq: Int) async throws -> [EventEnvelope<AnyEvent>] {
        try await database.withConnection { sql in
            try await sql.select().column("envelope", as: "text").from("_blytz_outbox").where("seq", .greaterThan, SQLBind(seq)).orderBy("seq").all(decoding: OutboxText.self)
        }.map { try JSON.decoder().decode(EventEnvelope<AnyEvent>.self, from: Data($0.text.utf8)) }
    }

    /// The sequence number of the newest event in the outbox (0 when it is empty).
    public func outboxSeq() async throws -> Int {
        try await database.withConnection { sql in
            try await sql.select().column(SQLRaw("CAST(MAX(seq) AS BIGINT)"), as: "seq").from("_blytz_outbox").first(decoding: OutboxSeq.self)?.seq ?? 0
        }
    }

    /// The published events of type `E`, decoded.
    public func published<E: Event>(_ type: E.Type) async throws -> [E] {
        try await published().filter { $0.type == E.type }.map { envelope in
            try JSON.decoder().decode(E.self, from: JSON.encoder().encode(envelope.data))
        }
    }

    static func envelope(_ event: some Event, source: String, time: Date, id: String? = nil) throws -> Data {
        func encode<E: Event>(_ event: E) throws -> Data {
            try JSON.encoder().encode(EventEnvelope(id: id ?? UUID().uuidString.lowercased(), type: E.type, version: E.version, source: source, time: time.iso, subject: event.subject, data: event, traceparent: nil))
        }
        return try encode(event)
    }

    /// The service has no function of that name (or not of that kind).
    public struct Unknown: Error, CustomStringConvertible {
        public var function: String
        public var description: String { "\(Service.name.rawValue) has no such function: \(function)" }
    }
}

/// An outbox row's envelope.
struct OutboxSeq: Decodable {
    var seq: Int?
}

struct OutboxText: Decodable {
    var text: String
}

/// A key set that never changes.
struct FixedKeys: SigningKeySource {
    let keys: SigningKeys
    func signingKeys(refresh: Bool) async throws -> SigningKeys { keys }
}
