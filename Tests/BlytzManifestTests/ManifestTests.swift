import BlytzEvents
import BlytzManifest
import Foundation
import Testing

@Suite struct ManifestTests {
    static let base = """
        version: 1
        services:
          users: { port: 3001, executable: users, database: users_db }
          market: { port: 3002, executable: market, database: market_db, websocket: /ws }
        functions:
        """

    func problems(_ functions: String, services: String? = nil) -> [ManifestProblem] {
        let text = services ?? (Self.base + "\n" + functions)
        do {
            _ = try Manifest.parse(text, file: "test.yaml")
            return []
        } catch {
            return error.problems
        }
    }

    @Test func theProjectManifestIsValidAndDeclaresAllSixServices() throws {
        let manifest = try Manifest.load(path: "functions.yaml")
        #expect(manifest.services.map(\.name) == ["users", "marketplace", "contracts", "payments", "communication", "files"])
        #expect(manifest.services.map(\.port) == [3001, 3002, 3003, 3004, 3005, 3006])
        #expect(manifest.services.map(\.database) == ["users_db", "marketplace_db", "contracts_db", "payments_db", "communication_db", "files_db"])
        #expect(manifest.function(named: "users-jwks")?.scaling.min == 1)
    }

    @Test func aServiceRebuildsWithTheRunnersBuildFlagsUnlessItNamesItsOwnCommand() throws {
        let manifest = try Manifest.parse("""
            version: 1
            services:
              users: { port: 3001, executable: users, database: users_db }
              market: { port: 3002, executable: market, database: market_db, build: [make, market] }
            functions:
              a: { service: users, http: GET /users/a }
            """, file: "t.yaml")
        let flags = ["--scratch-path", ".build/optimized", "-Xswiftc", "-O"]
        #expect(manifest.services[0].buildCommand(swiftBuildFlags: flags) == ["swift", "build", "--product", "users"] + flags)
        #expect(manifest.services[0].buildCommand(swiftBuildFlags: []) == ["swift", "build", "--product", "users"])
        #expect(manifest.services[1].buildCommand(swiftBuildFlags: flags) == ["make", "market"])
    }

    @Test func aLegacyMonolithOwnsWholeSegmentsOfItsPrefixes() throws {
        let text = Self.base + "\n  a: { service: users, http: GET /users/a }\nlegacy:\n  upstream: http://monolith:4000/\n  prefixes: [/api/jobs, /api/proposals/]\n"
        let legacy = try #require(try Manifest.parse(text, file: "t.yaml").legacy)
        #expect(legacy.upstream == "http://monolith:4000" && legacy.line == 7)
        #expect(legacy.owns("/api/jobs") && legacy.owns("/api/jobs/1/proposals") && legacy.owns("/api/proposals/p1"))
        #expect(!legacy.owns("/api/jobsboard") && !legacy.owns("/api/users/a") && !legacy.owns("/api"))
        let bad = problems("", services: Self.base + "\n  a: { service: users, http: GET /users/a }\nlegacy:\n  upstream: monolith:4000\n  prefixes: [api/jobs, /]\n  colour: x\n")
        #expect(bad.map(\.reason).contains("legacy.upstream must be an http:// or https:// URL"))
        #expect(bad.map(\.reason).contains("legacy prefix 'api/jobs' must start with / and name at least one segment"))
        #expect(bad.map(\.reason).contains("legacy prefix '/' must start with / and name at least one segment"))
        #expect(bad.contains { $0.reason.contains("unknown key 'colour'") })
    }

    @Test func readsEveryTriggerKindWithDefaults() throws {
        let manifest = try Manifest.parse(Self.base + """

              a: { service: users, http: "GET /users/{id}", timeout: 500ms, memory: 512, environment: { A: b } }
              b: { service: users, queue: { events: [UserCreated, UserDeleted], batchSize: 5, backoff: { initial: 1s, multiplier: 3 } } }
              c: { service: users, schedule: "*/5 * * * *", scaling: { min: 1, max: 2, idle: 2m, backlog: 0 } }
              d: { service: market, websocket: { route: $connect } }
            """, file: "t.yaml")
        let a = try #require(manifest.function(named: "a"))
        #expect(a.trigger == .http(method: "GET", path: try RoutePattern("/users/{id}")))
        #expect(a.timeout == .milliseconds(500))
        #expect(a.memoryMB == 512)
        #expect(a.environment == ["A": "b"])
        guard case .queue(let queue) = manifest.function(named: "b")?.trigger else { Issue.record("not a queue"); return }
        #expect(queue.events == ["UserCreated", "UserDeleted"])
        #expect(queue.batchSize == 5)
        #expect(queue.maxRetries == 5)
        #expect(queue.backoff == Backoff(initial: .seconds(1), maximum: .seconds(30), multiplier: 3))
        #expect(manifest.function(named: "c")?.scaling == Scaling(min: 1, max: 2, idle: .seconds(120), backlog: 0))
        #expect(manifest.function(named: "d")?.trigger == .websocket(route: "$connect"))
        #expect(a.line == 6)
    }

    @Test(arguments: [
        ("  a: { service: users, http: GET /users/a, colour: blue }", 6, "unknown key 'colour'"),
        ("  a: { service: users, http: GET /users/a }\n  a: { service: users, http: GET /users/b }", 7, "duplicate key 'a'"),
        ("  a: { service: users, http: GET /users/a }\n  b: { service: users, http: GET /users/a }", 7, "ambiguous with 'a'"),
        ("  a: { service: users, http: \"GET /users/{id}\" }\n  b: { service: users, http: \"GET /users/{userId}\" }", 7, "ambiguous with 'a'"),
        ("  a: { service: users, schedule: \"61 * * * *\" }", 6, "bad cron"),
        ("  a: { service: users, schedule: \"* * *\" }", 6, "has 3 fields"),
        ("  a: { service: nobody, http: GET /x/a }", 6, "service 'nobody', which is not declared"),
        ("  u: { service: users, http: GET /users/me }\n  a: { service: market, http: GET /users/a }", 7, "belongs to service 'users'"),
        ("  a: { service: users, http: GET /users/a, scaling: { min: 3, max: 2 } }", 6, "min (3) is above max (2)"),
        ("  a: { service: users, http: GET /users/a, schedule: \"* * * * *\" }", 6, "more than one trigger"),
        ("  a: { service: users }", 6, "has no trigger"),
        ("  a: { service: users, http: FETCH /users/a }", 6, "must be 'METHOD /path'"),
        ("  a: { service: users, http: \"GET /users/{id\" }", 6, "mixes a parameter"),
        ("  a: { service: users, http: \"GET /{id}/a\" }", 6, "must start with a literal segment"),
        ("  a: { service: users, http: GET /_local/a }", 6, "reserved segment"),
        ("  a: { service: users, websocket: { route: $connect } }", 6, "declares no websocket path"),
        ("  a: { service: users, http: GET /users/a, timeout: soon }", 6, "must be a duration"),
        ("  a: { service: users, queue: { batchSize: 5 } }", 6, "names no events"),
    ])
    func refusesABadManifestWithLineAndReason(functions: String, line: Int, reason: String) {
        let found = problems(functions)
        #expect(found.contains { $0.line == line && $0.reason.contains(reason) && $0.file == "test.yaml" }, "\(found)")
    }

    @Test func refusesMissingExecutablesAndCommands() {
        let lookup = ExecutableLookup(binDirectory: "/nonexistent", manifestDirectory: "/tmp")
        do {
            _ = try Manifest.parse(Self.base + "\n  a: { service: users, http: GET /users/a }\n  b: { service: users, http: GET /users/b, command: [no-such-program] }", file: "t.yaml", executables: lookup)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.contains { $0.line == 6 && $0.reason.contains("executable 'users' of service 'users' is missing") })
            #expect(error.problems.contains { $0.line == 7 && $0.reason.contains("command 'no-such-program'") })
        }
    }

    @Test func refusesDuplicatePortsAndUnknownTopLevelKeys() {
        let found = problems("", services: """
            version: 1
            services:
              a: { port: 3001, executable: a, database: a }
              b: { port: 3001, executable: b, database: b }
            functions: {}
            extra: true
            """)
        #expect(found.contains { $0.line == 6 && $0.reason.contains("unknown key 'extra'") })
    }

    @Test func refusesInvalidYAMLWithItsLine() {
        let found = problems("", services: "version: 1\nservices:\n  a: [unclosed\n")
        #expect(found.first?.reason.contains("not valid YAML") == true)
        #expect((found.first?.line ?? 0) >= 3)
    }
}

@Suite struct RouteTableTests {
    let table: RouteTable

    init() throws {
        table = RouteTable(manifest: try Manifest.parse("""
            version: 1
            services:
              market: { port: 3002, executable: m, database: m }
              files: { port: 3006, executable: f, database: f }
            functions:
              get: { service: market, http: "GET /jobs/{id}" }
              mine: { service: market, http: GET /jobs/mine }
              patch: { service: market, http: "PATCH /jobs/{id}" }
              close: { service: market, http: "POST /jobs/{id}/close" }
              content: { service: files, http: "GET /files/{key+}" }
            """, file: "t.yaml"))
    }

    @Test func theMostSpecificRouteWins() {
        #expect(table.match(method: "GET", path: "/jobs/mine", service: "market") == .function("mine", parameters: [:]))
        #expect(table.match(method: "GET", path: "/jobs/42", service: "market") == .function("get", parameters: ["id": "42"]))
        #expect(table.match(method: "POST", path: "/jobs/42/close", service: "market") == .function("close", parameters: ["id": "42"]))
    }

    @Test func greedyParametersTakeTheRest() {
        #expect(table.match(method: "GET", path: "/files/a/b/c.png", service: "files") == .function("content", parameters: ["key": "a/b/c.png"]))
    }

    @Test func wrongMethodListsTheAllowedOnes() {
        #expect(table.match(method: "DELETE", path: "/jobs/42", service: "market") == .methodNotAllowed(allowed: ["GET", "PATCH"]))
        #expect(table.match(method: "GET", path: "/jobs/42/open", service: "market") == .notFound)
        #expect(table.match(method: "GET", path: "/jobs/", service: "market") == .notFound)
    }

    @Test func eachFunctionHasItsAPIGatewayRouteKey() {
        #expect(table.routeKeys["get"] == "GET /jobs/{id}")
        #expect(table.routeKeys["content"] == "GET /files/{key+}")
    }

    @Test func segmentsBelongToTheirService() {
        #expect(table.service(forPath: "/jobs/42") == "market")
        #expect(table.service(forPath: "/files/x") == "files")
        #expect(table.service(forPath: "/nothing") == nil)
    }
}

@Suite struct CronTests {
    // 2026-11-24T20:08:17Z, a Tuesday.
    let now: Int64 = 1_795_550_897

    func iso(_ seconds: Int64?) -> String {
        guard let seconds else { return "none" }
        return Date(timeIntervalSince1970: Double(seconds)).formatted(.iso8601)
    }

    @Test(arguments: [
        ("* * * * *", "2026-11-24T20:09:00Z"),
        ("*/15 * * * *", "2026-11-24T20:15:00Z"),
        ("0 9 * * mon-fri", "2026-11-25T09:00:00Z"),
        ("30 6 1 * *", "2026-12-01T06:30:00Z"),
        ("0 0 29 2 *", "2028-02-29T00:00:00Z"),
        ("0 12 * * sun", "2026-11-29T12:00:00Z"),
        ("0 12 * * 7", "2026-11-29T12:00:00Z"),
        ("@daily", "2026-11-25T00:00:00Z"),
        ("*/10 * * * * *", "2026-11-24T20:08:20Z"),
        ("0 0 1 jan *", "2027-01-01T00:00:00Z"),
        ("0 0 13 * fri", "2026-11-27T00:00:00Z"),
        ("5,10 8-9 * * *", "2026-11-25T08:05:00Z"),
    ])
    func nextFiring(expression: String, expected: String) throws {
        let cron = try CronSchedule(expression)
        #expect(iso(cron.next(after: now)) == expected)
    }

    @Test(arguments: ["* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * funday", "*/0 * * * *", "5-1 * * * *", "a b c d e"])
    func refusesBadExpressions(expression: String) {
        #expect(throws: CronSchedule.Invalid.self) { try CronSchedule(expression) }
    }
}
