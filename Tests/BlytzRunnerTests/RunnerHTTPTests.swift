import BlytzEvents
import Blytz
import BlytzTesting
import Foundation
import NIOHTTP1
import Testing

/// Routing, events and error answers of the runner, through real worker processes and sockets.
@Suite(.serialized, .timeLimit(.minutes(2))) struct RunnerHTTPTests {
    struct Inspected: Decodable {
        var method: String
        var path: String
        var pathParameters: [String: String]
        var query: [String: String]
        var headers: [String: String]
        var bodyBase64: String
        var requestId: String
        var traceparent: String?
        var remainingMs: Int64
    }

    @Test func theGatewayAndTheServicePortRouteToTheSameFunction() async throws {
        try await withRunner { runner in
            let viaGateway = try await runner.get("/api/fx/inspect/42/a/b%20c?x=1&x=2&y=%C3%A9")
            #expect(viaGateway.status == 200)
            let seen = try viaGateway.json(Inspected.self)
            #expect(seen.path == "/fx/inspect/42/a/b%20c")
            #expect(seen.pathParameters == ["id": "42", "rest": "a/b%20c"])
            #expect(seen.query == ["x": "1,2", "y": "é"])
            #expect(seen.remainingMs > 3000)
            let direct = try await runner.get("/fx/inspect/7/z", base: runner.urls.services["fixtures"])
            #expect(direct.status == 200)
            #expect(try direct.json(Inspected.self).pathParameters["id"] == "7")
        }
    }

    @Test func requestIdsAndTraceContextAreCarried() async throws {
        try await withRunner { runner in
            let generated = try await runner.get("/api/fx/inspect/1/x")
            let id = try #require(generated.header("x-request-id"))
            #expect(id.count == 32)
            #expect(try generated.json(Inspected.self).requestId == id)

            let incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
            let traced = try await runner.get("/api/fx/inspect/1/x", headers: ["X-Request-Id": "client-req-1", "traceparent": incoming])
            #expect(traced.header("x-request-id") == "client-req-1")
            let seen = try traced.json(Inspected.self)
            let traceparent = try #require(seen.traceparent)
            #expect(traceparent.hasPrefix("00-0af7651916cd43dd8448eb211c80319c-"))
            #expect(traceparent != incoming)
            // The event carries the runner's span; the handler sees its own (the worker traces for the dashboard), in the same trace.
            let handed = try #require(seen.headers["traceparent"])
            #expect(handed.hasPrefix("00-0af7651916cd43dd8448eb211c80319c-") && handed != incoming)

            let invalid = try await runner.get("/api/fx/inspect/1/x", headers: ["traceparent": "garbage"])
            #expect(try invalid.json(Inspected.self).traceparent?.count == 55)
        }
    }

    @Test func everyErrorIsProblemJSONWithARequestId() async throws {
        try await withRunner(arguments: ["--max-body-bytes", "1024"]) { runner in
            let unknownService = try await runner.get("/api/nothing/here")
            #expect(unknownService.status == 404)
            #expect(unknownService.header("content-type") == "application/problem+json")
            #expect(unknownService.header("x-request-id") != nil)

            let unknownRoute = try await runner.get("/api/fx/unknown")
            #expect(unknownRoute.status == 404)

            let wrongMethod = try await runner.request(.DELETE, "/api/fx/slow")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.header("allow") == "GET")

            let tooLarge = try await runner.request(.POST, "/api/fx/mirror", body: Data(repeating: 7, count: 4096))
            #expect(tooLarge.status == 413)
            #expect(try tooLarge.json(Problem.self).status == 413)

            let outsideAPI = try await runner.get("/elsewhere")
            #expect(outsideAPI.status == 404)
        }
    }

    @Test func bodiesAreBinarySafe() async throws {
        try await withRunner { runner in
            var bytes = Data((0...255).map { UInt8($0) })
            bytes.append(contentsOf: [0xFF, 0xFE, 0x00, 0xC3])
            let binary = try await runner.request(.POST, "/api/fx/mirror", headers: ["Content-Type": "application/octet-stream"], body: bytes)
            #expect(binary.status == 200)
            #expect(binary.body == bytes)
            #expect(binary.header("content-type") == "application/octet-stream")

            let text = try await runner.request(.POST, "/api/fx/mirror", headers: ["Content-Type": "text/plain; charset=utf-8"], body: Data("héllo ✓".utf8))
            #expect(text.text == "héllo ✓")
        }
    }

    @Test func typedInputErrorsNameTheFieldAndFailuresStayPrivate() async throws {
        try await withRunner { runner in
            let created = try await runner.post("/api/fx/things", json: #"{"title":"desk","price":{"amountCents":1200,"currency":"EUR"}}"#)
            #expect(created.status == 201)
            #expect(created.header("location")?.hasPrefix("/things/") == true)

            let invalid = try await runner.post("/api/fx/things", json: #"{"title":"desk","price":{"amountCents":1200,"currency":"EURO"}}"#)
            #expect(invalid.status == 422)
            #expect(try invalid.json(Problem.self).errors?.map(\.field) == ["price.currency"])

            let wrongType = try await runner.post("/api/fx/things", json: #"{"title":"desk","price":{"amountCents":"lots","currency":"EUR"}}"#)
            #expect(wrongType.status == 422)
            #expect(try wrongType.json(Problem.self).errors?.first?.field == "price.amountCents")

            let malformed = try await runner.post("/api/fx/things", json: #"{"title":"#)
            #expect(malformed.status == 400)

            let thrown = try await runner.get("/api/fx/throw")
            #expect(thrown.status == 500)
            #expect(!thrown.text.contains("hunter2"))
            #expect(try thrown.json(Problem.self).detail?.contains(thrown.header("x-request-id") ?? "?") == true)
        }
    }

    @Test func healthAndReadinessOnEveryPort() async throws {
        try await withRunner { runner in
            for base in [runner.urls.gateway] + runner.urls.services.values {
                let health = try await runner.get("/health", base: base)
                let ready = try await runner.get("/ready", base: base)
                #expect(health.status == 200 && ready.status == 200)
            }
        }
    }

    @Test func aWorkerInAnotherLanguageServesThroughTheRuntimeAPI() async throws {
        try await withRunner { runner in
            let reply = try await runner.get("/api/py/hello")
            #expect(reply.status == 200)
            struct Hello: Decodable { var language: String; var path: String }
            let hello = try reply.json(Hello.self)
            #expect(hello.language == "python" && hello.path == "/py/hello")
        }
    }

    @Test func eachInvocationIsOneJSONLogLine() async throws {
        try await withRunner { runner in
            let reply = try await runner.get("/api/fx/slow?ms=1")
            let id = try #require(reply.header("x-request-id"))
            let line = try #require(await runner.waitForLine { $0.contains(id) })
            struct Logged: Decodable { var function: String; var service: String; var requestId: String; var status: Int; var durationMs: Double; var coldStart: Bool }
            let logged = try JSONDecoder().decode(Logged.self, from: Data(line.utf8))
            #expect(logged.function == "fx-slow" && logged.service == "fixtures" && logged.status == 200 && logged.coldStart && logged.durationMs > 0)
            let second = try await runner.get("/api/fx/slow?ms=1")
            let secondID = try #require(second.header("x-request-id"))
            let warm = try #require(await runner.waitForLine { $0.contains(secondID) })
            #expect(warm.contains(#""coldStart":false"#))
        }
    }
}
