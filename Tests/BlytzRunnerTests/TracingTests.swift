import Blytz
import BlytzData
import BlytzTesting
import Foundation
import NIOHTTP1
import Testing

/// Traces over OTLP/HTTP, received by a real receiver (`Tests/Fixtures/otlp_receiver.py`, decoding with
/// opentelemetry-proto): accepting a proposal runs through the gateway, the marketplace, its database, a
/// call to the contracts service and the event it publishes; each consumer's delivery is a trace of its own
/// that links to the publishing span.
@Suite(.serialized, .timeLimit(.minutes(4))) struct TracingTests {
    struct Item: Decodable { var id: String }
    struct Page<Element: Decodable>: Decodable { var items: [Element] }
    struct Hire: Decodable { var contractId: String? }
    struct Link: Decodable, Equatable { var traceId: String; var spanId: String }
    struct SpanRecord: Decodable {
        var traceId: String
        var spanId: String
        var parentSpanId: String
        var name: String
        var kind: String
        var service: String?
        var links: [Link]
        var attributes: [String: String]
    }

    static func withReceiver<T>(_ body: (Int) async throws -> T) async throws -> T {
        let fixtures = FileManager.default.currentDirectoryPath + "/Tests/Fixtures"
        return try await PythonServer.with(module: "otlp_receiver", arguments: ["--port", "{port}"], environment: ["PYTHONPATH": fixtures], body)
    }

    static func spans(_ port: Int, via runner: LocalRunner) async throws -> [SpanRecord] {
        try await runner.get("/spans", base: "http://127.0.0.1:\(port)").json([SpanRecord].self)
    }

    func person(_ api: Backend, _ role: String) async throws -> String {
        let session = try await api.register(role)
        let profile = role == "va"
            ? #"{"name":"Vera","country":"PH","timezone":"Asia/Manila","hourlyRateCents":1000,"skills":["Zendesk"]}"#
            : #"{"name":"Acme","country":"US","industry":"retail"}"#
        #expect(try await api.call(.POST, role == "va" ? "/profiles/va" : "/profiles/company", token: session.accessToken, json: profile).status == 201)
        return session.accessToken
    }

    @Test func oneRequestAcrossTwoServicesAndAnEventIsOneTraceAndItsDeliveriesLinkToIt() async throws {
        try await Self.withReceiver { port in
            let otel = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(port)", "OTEL_BSP_SCHEDULE_DELAY": "100"]
            try await Backend.with(.sqlite, environment: otel) { api in
                let company = try await person(api, "company")
                let va = try await person(api, "va")
                let job = #"{"title":"Support on Zendesk","description":"Tickets and email.","jobType":"hourly","rateMinCents":800,"rateMaxCents":1500,"skillsRequired":["zendesk"],"status":"open"}"#
                let jobId = try await api.call(.POST, "/jobs", token: company, json: job).json(Item.self).id
                let proposal = #"{"jobPostingId":"\#(jobId)","coverLetter":"I know Zendesk well.","bidType":"hourly","hourlyRateCents":1200}"#
                #expect(try await eventually { try await api.call(.POST, "/proposals", token: va, json: proposal).status == 201 })
                let proposalId = try #require(try await api.call(.GET, "/proposals?jobPostingId=\(jobId)", token: company).json(Page<Item>.self).items.first?.id)

                // A caller that decided not to keep its trace (flags 00): nothing of it is exported, in the runner
                // or the worker (parent-based sampling, OpenTelemetry's default). Made first, so its spans, were
                // there any, would have arrived before the spans awaited below.
                let unsampled = "4bf92f3577b34da6a3ce929d0e0e4736"
                let listed = try await api.call(.GET, "/proposals?jobPostingId=\(jobId)", token: company, headers: ["traceparent": "00-\(unsampled)-00f067aa0ba902b7-00"])
                #expect(listed.status == 200)

                // The client's own trace and span: the gateway continues them.
                let traceId = "0af7651916cd43dd8448eb211c80319c"
                let clientSpan = "b7ad6b7169203331"
                let accepted = try await api.call(
                    .POST, "/proposals/\(proposalId)/accept", token: company, headers: ["traceparent": "00-\(traceId)-\(clientSpan)-01"]
                )
                #expect(accepted.status == 201, "\(accepted.text)")

                var spans: [SpanRecord] = []
                func trace() -> [SpanRecord] { spans.filter { $0.traceId == traceId } }
                func children(of span: SpanRecord?) -> [SpanRecord] { trace().filter { $0.parentSpanId == span?.spanId } }
                // Waits for the consumers' deliveries of ProposalAccepted too, each with its function's and the
                // runner's delivery span (processes export on their own schedules).
                #expect(await eventually(within: .seconds(20)) {
                    spans = (try? await Self.spans(port, via: api.runner)) ?? []
                    guard let published = trace().first(where: { $0.name == "publish ProposalAccepted" }) else { return false }
                    let handled = spans.filter { $0.name == "handle ProposalAccepted" && $0.links.contains(Link(traceId: traceId, spanId: published.spanId)) }
                    return !handled.isEmpty && handled.allSatisfy { handling in
                        let function = spans.first { $0.spanId == handling.parentSpanId }
                        return function.map { function in spans.contains { $0.spanId == function.parentSpanId } } ?? false
                    }
                })

                #expect(!spans.contains { $0.traceId == unsampled }, "\(spans.filter { $0.traceId == unsampled }.map(\.name))")

                // gateway (server, runner) → marketplace's function (server) → its transactions and its call to contracts (client)
                let gateway = try #require(trace().first { $0.parentSpanId == clientSpan }, "\(trace().map(\.name))")
                #expect(gateway.kind == "SPAN_KIND_SERVER" && gateway.name.hasPrefix("POST ") && gateway.attributes["http.response.status_code"] == "201")
                let accept = try #require(children(of: gateway).first, "\(trace().map(\.name))")
                #expect(accept.service == "marketplace" && accept.name == "marketplace-proposals-accept")
                let underAccept = children(of: accept)
                #expect(underAccept.contains { $0.name == "transaction" && $0.kind == "SPAN_KIND_CLIENT" && $0.attributes["db.system.name"] == "sqlite" })
                let call = try #require(underAccept.first { $0.name == "POST contracts" && $0.kind == "SPAN_KIND_CLIENT" }, "\(underAccept.map(\.name))")
                // → contracts' port (server, runner) → contracts' function → its own transaction
                let contractsPort = try #require(children(of: call).first, "\(trace().map(\.name))")
                #expect(contractsPort.kind == "SPAN_KIND_SERVER")
                let create = try #require(children(of: contractsPort).first)
                #expect(create.service == "contracts" && create.name.hasPrefix("contracts-"))
                #expect(children(of: create).contains { $0.name == "transaction" })
                // The event the accept published is a producer span in the same trace, under the function.
                let published = try #require(trace().first { $0.name == "publish ProposalAccepted" })
                #expect(published.kind == "SPAN_KIND_PRODUCER")
                var ancestor = trace().first { $0.spanId == published.parentSpanId }
                while let span = ancestor, span.spanId != accept.spanId { ancestor = trace().first { $0.spanId == span.parentSpanId } }
                #expect(ancestor?.spanId == accept.spanId)

                // Each delivery: the runner's consumer span (a trace of its own, linked to the publisher), then the
                // consumer's function and its handling of the event, linked too.
                let handled = spans.filter { $0.name == "handle ProposalAccepted" }
                #expect(!handled.isEmpty, "\(spans.filter { $0.traceId != traceId }.map { "\($0.name) \($0.kind) \($0.links.count)" })")
                for handling in handled {
                    #expect(handling.traceId != traceId && handling.links.contains(Link(traceId: traceId, spanId: published.spanId)))
                    let function = try #require(spans.first { $0.spanId == handling.parentSpanId })
                    let delivery = try #require(spans.first { $0.spanId == function.parentSpanId })
                    #expect(delivery.kind == "SPAN_KIND_CONSUMER" && delivery.name.hasPrefix("deliver ") && delivery.parentSpanId.isEmpty)
                    #expect(delivery.links.contains(Link(traceId: traceId, spanId: published.spanId)))
                }
            }
        }
    }
}
