#if canImport(Glibc)
import Glibc
#endif
import BlytzData
import BlytzTesting
import Foundation
import Logging
import NIOHTTP1
import SQLKit
import Synchronization
import Testing

/// The user and communication services self-hosted: two `blytz serve` replicas of each on PostgreSQL,
/// behind HAProxy routed as the generated compose file's Traefik labels say.
@Suite(.serialized, .timeLimit(.minutes(6))) struct ServedTests {
    struct Session: Decodable { struct User: Decodable { var id: String }; var user: User; var accessToken: String }
    struct Conversation: Decodable { var id: String }

    /// What the readers were answered.
    final class Answers: Sendable {
        let state = Mutex<(ok: Int, failed: [String])>((0, []))
    }

    /// A call through the proxy (or straight to `base`).
    func call(_ backend: ServedBackend, _ method: HTTPMethod, _ path: String, base: String? = nil, token: String? = nil, json: String? = nil) async throws -> LocalRunner.Reply {
        var headers: [String: String] = [:]
        if let token { headers["authorization"] = "Bearer \(token)" }
        if json != nil { headers["content-type"] = "application/json" }
        let runner = backend.replica("users", 0)
        return try await runner.request(method, base == nil ? "/api" + path : path, base: base ?? backend.proxy, headers: headers, body: json.map { Data($0.utf8) })
    }

    func person(_ backend: ServedBackend, _ role: String, name: String) async throws -> Session {
        let email = "\(role)-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let registered = try await call(backend, .POST, "/auth/register", json: #"{"email":"\#(email)","password":"correct horse battery","role":"\#(role)"}"#)
        #expect(registered.status == 201, "\(registered.text)")
        let session = try registered.json(Session.self)
        let profile = role == "va"
            ? #"{"name":"\#(name)","country":"PH","hourlyRateCents":900,"skills":["Excel"]}"#
            : #"{"name":"\#(name)","country":"US","industry":"retail"}"#
        let created = try await call(backend, .POST, role == "va" ? "/profiles/va" : "/profiles/company", token: session.accessToken, json: profile)
        #expect(created.status == 201, "\(created.text)")
        return session
    }

    /// The event ids each invocation of `function` was handed, over every process of `service`'s replicas.
    func delivered(_ backend: ServedBackend, _ service: String, to function: String) -> (all: [String], perReplica: [Int]) {
        var all: [String] = []
        var perReplica: [Int] = []
        for runner in backend.history(service) {
            let ids = runner.deliveredEvents(to: function)
            all += ids
            perReplica.append(ids.count)
        }
        return (all, perReplica)
    }

    @Test func replicasBehindAProxyServeCallsEventsAndSockets() async throws {
        let usersURL = try TestDatabase.unusedPostgresURL()
        let settings = Backend.environment.merging([
            "USERS_DATABASE_URL": usersURL,
            "COMMUNICATION_DATABASE_URL": try TestDatabase.unusedPostgresURL(),
            "BLYTZ_QUEUE_URL": try TestDatabase.unusedPostgresURL(),
            "BLYTZ_SERVICE_KEY": "served-test-key-\(UUID().uuidString)",
        ]) { $1 }
        let backend = try await ServedBackend.start(replicas: ["users": 2, "communication": 2], environment: settings)
        let users = try ServiceDatabase.open(.postgres(url: usersURL), logger: Logger(label: "t"))
        try await using((backend, users), cleanup: { await $0.0.stop(); await $0.1.shutdown() }) { backend, users in
            let vera = try await person(backend, "va", name: "Vera Cruz")
            let acme = try await person(backend, "company", name: "Acme")

            // Nothing of the runner's own is reachable through the proxy or a service's port.
            for path in ["/_local/functions", "/api/_local/functions", "/@connections/x", "/api/@connections/x", "/openapi.json"] {
                let reply = try await call(backend, .GET, path, base: backend.proxy)
                #expect(reply.status == 404 || reply.status == 503, "\(path) through the proxy answered \(reply.status)")
                #expect(!reply.text.contains("\"functions\""))
            }
            let direct = backend.replica("users", 0).urls.services["users"]!
            for path in ["/_local/functions", "/@connections/x", "/_local/functions/users-jwks/invoke"] {
                #expect(try await call(backend, .GET, path, base: direct).status == 404, "\(path) on the service's port")
                #expect(try await call(backend, .POST, path, base: direct).status == 404, "\(path) on the service's port")
            }
            // They answer on the runner's loopback port only.
            #expect(try await call(backend, .GET, "/_local/functions", base: backend.replica("users", 0).urls.gateway).status == 200)

            // Reads through the proxy keep succeeding while a replica is SIGKILLed and started again.
            let answers = Answers()
            let reading = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<2 {
                        group.addTask {
                            let end = ContinuousClock.now + .seconds(6)
                            while ContinuousClock.now < end {
                                let reply = try? await call(backend, .GET, "/auth/jwks")
                                answers.state.withLock { if reply?.status == 200 { $0.ok += 1 } else { $0.failed.append(reply.map { "\($0.status) \($0.text)" } ?? "no answer") } }
                            }
                        }
                    }
                }
            }
            try await Task.sleep(for: .seconds(1))
            await backend.kill("users", 0)
            try await Task.sleep(for: .milliseconds(500))
            try await backend.restart("users", 0)
            await reading.value
            let (ok, failed) = answers.state.withLock { ($0.ok, $0.failed) }
            #expect(failed.isEmpty && ok > 20, "\(ok) reads answered 200; \(failed.count) did not: \(failed.prefix(3))")

            // Events published by either user replica reach each communication consumer once, although
            // two replicas of it compete for them.
            for index in 0..<12 {
                let reply = try await call(
                    backend, .POST, "/auth/register",
                    json: #"{"email":"crowd-\#(index)-\#(UUID().uuidString.prefix(6))@example.com","password":"correct horse battery","role":"va"}"#
                )
                #expect(reply.status == 201)
            }
            struct Row: Decodable { var id: String }
            let published = try await users.withConnection { sql in
                try await sql.raw("SELECT id FROM _blytz_outbox WHERE type = 'UserCreated'").all(decoding: Row.self).map(\.id)
            }
            #expect(published.count == 14)
            for function in ["communication-directory", "communication-on-user-created"] {
                let arrived = await eventually(within: .seconds(30)) {
                    Set(delivered(backend, "communication", to: function).all).isSuperset(of: published)
                }
                let (all, perReplica) = delivered(backend, "communication", to: function)
                let created = all.filter(published.contains)
                #expect(arrived && created.count == published.count && Set(created).count == published.count, "\(function): \(created.count) deliveries of \(published.count) events")
                print("served: \(function) got \(published.count) UserCreated events once each across replicas (\(perReplica) deliveries per replica)")
            }

            // A chat message sent through one communication replica reaches a socket the other holds.
            let communication = (0..<2).map { backend.replica("communication", $0).urls.services["communication"]! }
            let socket = try await LiveSocket.connect(communication[1].replacingOccurrences(of: "http://", with: "ws://") + "/ws?token=\(vera.accessToken)")
            var opened: LocalRunner.Reply?
            _ = await eventually(within: .seconds(15)) {
                opened = try? await call(backend, .POST, "/chat/conversations", base: communication[0], token: acme.accessToken, json: #"{"userId":"\#(vera.user.id)"}"#)
                return opened?.status == 201
            }
            let conversation = try #require(try opened?.json(Conversation.self))
            let sent = try await call(
                backend, .POST, "/chat/conversations/\(conversation.id)/messages", base: communication[0], token: acme.accessToken, json: #"{"content":"Hello across replicas"}"#
            )
            #expect(sent.status == 201, "\(sent.text)")
            #expect(await socket.message(containing: "Hello across replicas", within: .seconds(10)) != nil)

            // When the replica holding the socket dies, another runs its $disconnect.
            #expect(!backend.replica("communication", 0).lines.contains { $0.contains(#""function":"communication-ws-disconnect""#) })
            await backend.kill("communication", 1)
            let disconnected = await eventually(within: .seconds(30)) {
                backend.replica("communication", 0).lines.contains { $0.contains(#""function":"communication-ws-disconnect""#) && $0.contains(#""status":200"#) }
            }
            #expect(disconnected, "no $disconnect ran for the dead replica's connection")
            await socket.close()
        }
    }
}
