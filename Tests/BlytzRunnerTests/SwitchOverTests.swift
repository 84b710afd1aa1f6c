import AsyncHTTPClient
import BlytzTesting
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Moving off the monolith one service at a time: the manifest's `legacy` prefixes reach a stand-in
/// monolith unchanged, through the local gateway and through the proxy the compose file configures, until
/// a prefix is moved out and its service answers.
@Suite(.serialized, .timeLimit(.minutes(5))) struct SwitchOverTests {
    struct Echo: Decodable {
        var servedBy: String
        var method: String
        var path: String
        var headers: [String: String]
        var body: String
        var requests: Int
    }

    /// functions.yaml with a `legacy` block owning `prefixes`, in a folder of its own.
    static func manifest(owning prefixes: [String], in directory: String) throws -> String {
        let original = try String(contentsOfFile: "functions.yaml", encoding: .utf8)
        let list = prefixes.map { "\"\($0)\"" }.joined(separator: ", ")
        let path = directory + "/functions.yaml"
        try (original + "\nlegacy:\n  upstream: http://monolith.invalid:4000\n  prefixes: [\(list)]\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// How many requests the stand-in has answered, this one included.
    static func requestsSeen(by monolith: String) async throws -> Int {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: monolith + "/count"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONDecoder().decode(Echo.self, from: Data(body.readableBytesView)).requests
    }

    static func withMonolith<T>(_ body: (Int) async throws -> T) async throws -> T {
        let fixtures = FileManager.default.currentDirectoryPath + "/Tests/Fixtures"
        return try await PythonServer.with(module: "stand_in_monolith", arguments: ["--port", "{port}"], environment: ["PYTHONPATH": fixtures], body)
    }

    @Test func theGatewayForwardsTheMonolithsPrefixesUnchangedUntilAServiceTakesThemOver() async throws {
        try await Self.withMonolith { port in
            let directory = NSTemporaryDirectory() + "blytz-switch-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let monolith = "http://127.0.0.1:\(port)"

            // Before: the monolith owns /api/jobs; the marketplace is not asked.
            let before = try await LocalRunner.start(
                manifest: try Self.manifest(owning: ["/api/jobs"], in: directory), environment: ["BLYTZ_LEGACY_URL": monolith]
            )
            try await using(before, cleanup: { await $0.stop() }) { runner in
                let listed = try await runner.get("/api/jobs/categories?q=a%20b&x=1", headers: ["X-Client": "switch-test", "Authorization": "Bearer legacy-token"])
                #expect(listed.status == 200 && listed.header("x-served-by") == "monolith")
                #expect(listed.header("set-cookie") == "session=legacy; Path=/; HttpOnly")
                let echo = try listed.json(Echo.self)
                #expect(echo.method == "GET" && echo.path == "/api/jobs/categories?q=a%20b&x=1")
                #expect(echo.headers["x-client"] == "switch-test" && echo.headers["authorization"] == "Bearer legacy-token")
                #expect(echo.headers["x-forwarded-for"] == "127.0.0.1" && echo.headers["x-forwarded-proto"] == "http")
                // The monolith sees its own host, and the client's beside it.
                #expect(echo.headers["host"] == "127.0.0.1:\(port)" && echo.headers["x-forwarded-host"]?.hasPrefix("127.0.0.1:") == true)

                // Bodies and statuses pass both ways as they are, redirects included (not followed).
                let body = #"{"title":"Bookkeeper","budget":19.99,"note":"ünïcode"}"#
                let created = try await runner.request(.POST, "/api/jobs", headers: ["Content-Type": "application/json; charset=utf-8"], body: Data(body.utf8))
                #expect(created.status == 201)
                let createdEcho = try created.json(Echo.self)
                #expect(createdEcho.body == body && createdEcho.headers["content-type"] == "application/json; charset=utf-8")
                #expect(try await runner.get("/api/jobs/teapot").status == 418)
                let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
                let redirect = try await using(client, cleanup: { try? await $0.shutdown() }) { client in
                    try await client.execute(HTTPClientRequest(url: runner.urls.gateway + "/api/jobs/moved"), timeout: .seconds(10))
                }
                #expect(redirect.status == .found && redirect.headers.first(name: "location") == "/api/jobs/elsewhere")

                // A prefix matches whole segments, and the rest of the API is the services'.
                #expect(try await runner.get("/api/jobsboard").header("x-served-by") == nil)
                let keys = try await runner.get("/api/auth/jwks")
                #expect(keys.status == 200 && keys.header("x-served-by") == nil && keys.text.contains("\"keys\""))
            }
            let countBefore = try await Self.requestsSeen(by: monolith)

            // After: /api/jobs moved to the marketplace; the monolith hears nothing more.
            let after = try await LocalRunner.start(
                manifest: try Self.manifest(owning: [], in: directory), environment: ["BLYTZ_LEGACY_URL": monolith]
            )
            try await using(after, cleanup: { await $0.stop() }) { runner in
                let listed = try await runner.get("/api/jobs/categories")
                #expect(listed.status == 200 && listed.header("x-served-by") == nil, "\(listed.status) \(listed.text)")
                #expect(!listed.text.contains("monolith"))
                #expect(try await runner.get("/api/jobs").status == 401)
            }
            #expect(try await Self.requestsSeen(by: monolith) == countBefore + 1)
        }
    }

    @Test func theComposeFilesProxyRoutesTheMonolithsPrefixesAheadOfTheServices() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["BLYTZ_TEST_PYTHON"], "run the tests with ./local/test")
        try await Self.withMonolith { port in
            let directory = NSTemporaryDirectory() + "blytz-switch-compose-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let manifest = try Self.manifest(owning: ["/api/jobs", "/api/proposals"], in: directory)
            let blytz = LocalRunner.buildDirectory + "/blytz"
            _ = try runSucceeding([blytz, "compose", "--manifest", "functions.yaml"], in: directory)
            try "POSTGRES_PASSWORD=secret\n".write(toFile: directory + "/deploy/.env", atomically: true, encoding: .utf8)
            let routes = try runSucceeding([blytz, "routes", "--json", "functions.yaml"], in: directory)
            #expect(routes.contains("\"legacy\" : true"))
            try routes.write(toFile: directory + "/routes.json", atomically: true, encoding: .utf8)
            let tools = FileManager.default.currentDirectoryPath + "/local/tools/compose_routes.py"
            #expect(try runSucceeding([python, tools, "check", "deploy/compose.yaml", "routes.json"], in: directory).contains("routes reach their service"))
            let routing = try String(contentsOfFile: directory + "/deploy/traefik-legacy.yaml", encoding: .utf8)
            #expect(routing.contains("PathPrefix(`/api/jobs/`)") && routing.contains("http://monolith.invalid:4000") && routing.contains("passHostHeader: false"))

            // The same routing in a real proxy: the monolith's prefixes reach it unchanged, the rest the services.
            let runner = try await LocalRunner.start(manifest: manifest, environment: ["BLYTZ_LEGACY_URL": "http://127.0.0.1:\(port)"])
            try await using(runner, cleanup: { await $0.stop() }) { runner in
                let users = try #require(runner.urls.services["users"]).replacingOccurrences(of: "http://", with: "")
                let marketplace = try #require(runner.urls.services["marketplace"]).replacingOccurrences(of: "http://", with: "")
                let proxyPort = try PythonServer.freePort()
                let configuration = try runSucceeding(
                    [python, tools, "haproxy", "deploy/compose.yaml", "\(proxyPort)", "legacy=127.0.0.1:\(port)", "users=\(users)", "marketplace=\(marketplace)"],
                    in: directory
                )
                try configuration.write(toFile: directory + "/haproxy.cfg", atomically: true, encoding: .utf8)
                let haproxy = Process()
                haproxy.executableURL = URL(fileURLWithPath: "/usr/sbin/haproxy")
                haproxy.arguments = ["-db", "-f", directory + "/haproxy.cfg"]
                haproxy.standardOutput = FileHandle.nullDevice
                haproxy.standardError = FileHandle.nullDevice
                try haproxy.run()
                defer { haproxy.terminate(within: 10) }
                let proxy = "http://127.0.0.1:\(proxyPort)"
                #expect(await eventually(within: .seconds(10)) { (try? await runner.get("/api/auth/jwks", base: proxy).status) == 200 })
                let proposal = try await runner.request(.POST, "/api/proposals/p1/withdraw", base: proxy, body: Data("{}".utf8))
                #expect(proposal.status == 201 && proposal.header("x-served-by") == "monolith")
                let forwarded = try proposal.json(Echo.self)
                #expect(forwarded.path == "/api/proposals/p1/withdraw" && forwarded.headers["host"] == "127.0.0.1:\(port)")
                #expect(forwarded.headers["x-forwarded-host"] == "127.0.0.1:\(proxyPort)")
                let categories = try await runner.get("/api/jobs/categories", base: proxy)
                #expect(try categories.json(Echo.self).path == "/api/jobs/categories")
                #expect(try await runner.get("/api/auth/jwks", base: proxy).header("x-served-by") == nil)
            }
        }
    }
}
