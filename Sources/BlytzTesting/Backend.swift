import Blytz
import BlytzData
import Foundation
import JWTKit
import Logging
import NIOHTTP1
import SQLKit
import Testing

/// The backend served by the real runner from `functions.yaml`, and a client that speaks its API.
public struct Backend: Sendable {
    public let runner: LocalRunner
    /// The users database's URL when it is PostgreSQL.
    public let postgresURL: String?
    /// The communication database's URL when it is PostgreSQL.
    public let communicationURL: String?
    /// What the runner was started with beside the machine's environment (database URLs among them), for
    /// `blytz` commands on the same databases.
    public let settings: [String: String]

    public struct Session: Decodable, Sendable {
        public struct User: Decodable, Sendable {
            public var id: String
            public var email: String
            public var role: String
        }

        public var user: User?
        public var accessToken: String
        public var refreshToken: String
        public var expiresIn: Int
    }

    /// Settings that keep the suite fast: the lowest bcrypt cost and a tight login throttle.
    public static let environment = [
        "USERS_BCRYPT_COST": "4", "USERS_LOGIN_MAX_FAILURES_PER_EMAIL": "3", "USERS_LOGIN_MAX_FAILURES_PER_ADDRESS": "50", "USERS_LOGIN_LOCK_SECONDS": "60",
        "LOG_LEVEL": "warning",
        // A service call that starts a cold worker of a debug build on a loaded machine can outlast
        // production's 2 s; a test of a timeout sets its own.
        "BLYTZ_CALL_TIMEOUT_MS": "8000",
    ]

    /// Starts the runner on `engine` (on PostgreSQL: every service's database and
    /// the event queue) with `environment` added, runs `body`, stops it.
    public static func with<T>(_ engine: ServiceDatabase.Engine, environment: [String: String] = [:], _ body: (Backend) async throws -> T) async throws -> T {
        let postgresURL = engine == .postgres ? try TestDatabase.unusedPostgresURL() : nil
        let communicationURL = engine == .postgres ? try TestDatabase.unusedPostgresURL() : nil
        var settings = Self.environment.merging(environment) { $1 }
        if let postgresURL, let communicationURL {
            settings["USERS_DATABASE_URL"] = postgresURL
            settings["COMMUNICATION_DATABASE_URL"] = communicationURL
            settings["MARKETPLACE_DATABASE_URL"] = try TestDatabase.unusedPostgresURL()
            settings["CONTRACTS_DATABASE_URL"] = try TestDatabase.unusedPostgresURL()
            settings["PAYMENTS_DATABASE_URL"] = try TestDatabase.unusedPostgresURL()
            settings["FILES_DATABASE_URL"] = try TestDatabase.unusedPostgresURL()
            settings["BLYTZ_QUEUE_URL"] = try TestDatabase.unusedPostgresURL()
        }
        return try await withRunner(manifest: "functions.yaml", environment: settings) { runner in
            try await body(Backend(runner: runner, postgresURL: postgresURL, communicationURL: communicationURL, settings: settings))
        }
    }

    /// Runs `body` on the communication service's database.
    public func communicationDatabase<T>(_ body: (ServiceDatabase) async throws -> T) async throws -> T {
        let location: DatabaseLocation = communicationURL.map { .postgres(url: $0) } ?? .sqlite(path: runner.dataDirectory + "/communication_db.sqlite")
        return try await using(try ServiceDatabase.open(location, maxConnections: 1, logger: Logger(label: "test")), cleanup: { await $0.shutdown() }, body)
    }

    /// The gateway's WebSocket URL for `token`.
    public func socketURL(_ token: String) -> String {
        runner.urls.gateway.replacingOccurrences(of: "http://", with: "ws://") + "/api/ws?token=\(token)"
    }

    public func call(_ method: HTTPMethod, _ path: String, token: String? = nil, json: String? = nil, headers: [String: String] = [:]) async throws -> LocalRunner.Reply {
        var headers = headers
        if let token { headers["authorization"] = "Bearer \(token)" }
        if json != nil { headers["content-type"] = "application/json" }
        let reply = try await runner.request(method, "/api" + path, headers: headers, body: json.map { Data($0.utf8) })
        ResponseLog.record(method: method.rawValue, path: path, status: reply.status, contentType: reply.header("content-type"), body: reply.body)
        return reply
    }

    /// A new account of `role` with a unique email.
    public func register(_ role: String = "va", email: String? = nil, password: String = "correct horse battery") async throws -> Session {
        let email = email ?? "\(role)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let reply = try await call(.POST, "/auth/register", json: #"{"email":"\#(email)","password":"\#(password)","role":"\#(role)"}"#)
        guard reply.status == 201 else { throw TestSetupError(description: "register answered \(reply.status): \(reply.text)") }
        return try reply.json(Session.self)
    }

    public func login(_ email: String, _ password: String) async throws -> LocalRunner.Reply {
        try await call(.POST, "/auth/login", json: #"{"email":"\#(email)","password":"\#(password)"}"#)
    }

    /// An admin made with `blytz users create-admin`, signed in.
    public func admin() async throws -> Session {
        let email = "admin-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        var environment = settings
        environment["BLYTZ_ADMIN_PASSWORD"] = "admin password 1"
        let made = try blytz(["users", "create-admin", "--email", email, "--data-dir", runner.dataDirectory], environment: environment)
        guard made.status == 0 else { throw TestSetupError(description: "create-admin failed: \(made.output)") }
        let reply = try await login(email, "admin password 1")
        guard reply.status == 200 else { throw TestSetupError(description: "admin login answered \(reply.status): \(reply.text)") }
        return try reply.json(Session.self)
    }

    /// The data of the newest outbox event of `type` about `subject` (how the tests read tokens sent by mail).
    public func lastEvent(_ type: String, subject: String) async throws -> [String: String] {
        guard let newest = try await events(type, subject: subject).first else { throw TestSetupError(description: "no \(type) event for \(subject)") }
        return newest
    }

    /// The data of every outbox event of `type` about `subject`, newest first.
    public func events(_ type: String, subject: String) async throws -> [[String: String]] {
        let location: DatabaseLocation = postgresURL.map { .postgres(url: $0) } ?? .sqlite(path: runner.dataDirectory + "/users_db.sqlite")
        let database = try ServiceDatabase.open(location, maxConnections: 1, logger: Logger(label: "test"))
        return try await using(database, cleanup: { await $0.shutdown() }) { database in
            try await database.withConnection { sql in
                struct Row: Decodable { var envelope: String }
                struct Envelope: Decodable { var subject: String?; var data: [String: String] }
                let rows = try await sql.select().column("envelope").from("_blytz_outbox").where("type", .equal, SQLBind(type))
                    .orderBy("seq", .descending).all(decoding: Row.self)
                return rows.compactMap { try? JSONDecoder().decode(Envelope.self, from: Data($0.envelope.utf8)) }.filter { $0.subject == subject }.map(\.data)
            }
        }
    }

    /// The signing key ring the user service generated in its data directory.
    public func signingKey() throws -> (kid: String, key: ES256PrivateKey) {
        struct File: Decodable { struct Key: Decodable { var kid: String; var privateKey: String; var retiredAt: String? }; var keys: [Key] }
        let file = try JSONDecoder().decode(File.self, from: Data(contentsOf: URL(fileURLWithPath: runner.dataDirectory + "/users/signing-keys.json")))
        let key = try #require(file.keys.last { $0.retiredAt == nil })
        return (key.kid, try ES256PrivateKey(pem: key.privateKey))
    }
}

extension LocalRunner.Reply {
    /// The `field`s the problem document names.
    public var problemFields: [String] {
        ((try? json(Problem.self))?.errors ?? []).map(\.field)
    }

    public var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
    }
}
