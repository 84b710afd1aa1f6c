import BlytzEvents
import Blytz
import BlytzTesting
import Foundation
import HTTPTypes
import Logging
import Testing

/// A handler with typed nested input, validation, and every kind of failure.
struct Orders: HTTPFunction {
    static let access = Open()

    struct Input: Codable, Sendable, Validatable {
        struct Line: Codable, Sendable {
            var sku: String
            var quantity: Int
        }

        var customer: String
        var lines: [Line]
        var currency: String

        func validate() -> [Problem.FieldError] {
            var errors: [Problem.FieldError] = []
            if lines.isEmpty { errors.append(.init(field: "lines", message: "must not be empty")) }
            for (index, line) in lines.enumerated() where line.quantity < 1 {
                errors.append(.init(field: "lines[\(index)].quantity", message: "must be at least 1"))
            }
            return errors
        }
    }

    struct Output: Codable, Sendable, ResponseBody {
        var customer: String
        var units: Int
        var id: String
    }

    struct Explosion: Error { var secret = "s3cr3t" }

    func handle(_ request: FunctionRequest<Input>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Output> {
        switch try request.input.customer {
        case "missing": throw HTTPError.notFound("customer missing")
        case "boom": throw Explosion()
        default:
            return try .created(Output(customer: request.input.customer, units: request.input.lines.map(\.quantity).reduce(0, +), id: try request.parameter("shop")))
        }
    }
}

@Suite struct HandlerTests {
    let valid = #"{"customer":"acme","currency":"EUR","lines":[{"sku":"a","quantity":2},{"sku":"b","quantity":3}]}"#

    @Test func decodesTheBodyAndEncodesTheOutput() async throws {
        let response = try await HandlerTester.http(Orders(), .post("/orders", json: valid, pathParameters: ["shop": "s1"]))
        #expect(response.status == 201)
        #expect(response.headers[.contentType] == "application/json")
        let output = try response.json(Orders.Output.self)
        #expect(output.units == 5 && output.id == "s1")
    }

    @Test(arguments: [
        (#"{"customer":"acme","currency":"EUR"}"#, 422, "lines", "is required"),
        (#"{"customer":"acme","currency":"EUR","lines":[{"sku":"a","quantity":"two"}]}"#, 422, "lines[0].quantity", "must be an integer"),
        (#"{"customer":7,"currency":"EUR","lines":[]}"#, 422, "customer", "must be a string"),
        (#"{"customer":null,"currency":"EUR","lines":[]}"#, 422, "customer", "must not be null"),
        (#"{"customer":"acme","currency":"EUR","lines":[]}"#, 422, "lines", "must not be empty"),
        (#"{"customer":"acme","currency":"EUR","lines":[{"sku":"a","quantity":0}]}"#, 422, "lines[0].quantity", "must be at least 1"),
        (#"{"customer":"acme","#, 400, "body", "is not valid JSON"),
    ])
    func badBodiesNameTheField(body: String, status: Int, field: String, message: String) async throws {
        let response = try await HandlerTester.http(Orders(), .post("/orders", json: body, pathParameters: ["shop": "s"]))
        #expect(response.status.code == status)
        #expect(response.headers[.contentType] == "application/problem+json")
        let problem = try #require(response.problem)
        #expect(problem.status == status)
        #expect(problem.errors?.contains { $0.field == field && $0.message.contains(message) } == true, "\(problem)")
    }

    @Test func aMissingBodyOrWrongContentTypeIsRefused() async throws {
        let empty = try await HandlerTester.http(Orders(), .init(method: .post, path: "/orders", headers: [.contentType: "application/json"]))
        #expect(empty.status == 400 && empty.problem?.errors?.first?.field == "body")
        let form = try await HandlerTester.http(Orders(), .init(method: .post, path: "/orders", headers: [.contentType: "text/plain"], body: Data(valid.utf8)))
        #expect(form.status == 415)
    }

    @Test func httpErrorsMapToTheirProblemAndOthersToAGeneric500() async throws {
        let missing = try await HandlerTester.http(Orders(), .post("/orders", json: valid.replacingOccurrences(of: "acme", with: "missing"), pathParameters: ["shop": "s"]))
        #expect(missing.status == 404 && missing.problem?.detail == "customer missing")
        let boom = try await HandlerTester.http(Orders(), .post("/orders", json: valid.replacingOccurrences(of: "acme", with: "boom"), pathParameters: ["shop": "s"]))
        #expect(boom.status == 500)
        #expect(!String(decoding: boom.body, as: UTF8.self).contains("s3cr3t"))
        let noParameter = try await HandlerTester.http(Orders(), .post("/orders", json: valid))
        #expect(noParameter.status == 400 && noParameter.problem?.errors?.first?.field == "shop")
    }

    @Test func bytesTravelAsBase64AndTextAsText() async throws {
        struct Download: HTTPFunction {
            static let access = Open()

            func handle(_ request: FunctionRequest<Empty>, caller _: Anyone, context: FunctionContext) async throws -> FunctionResponse<Bytes> {
                .ok(Bytes(Data([0, 255, 1, 254]), contentType: "image/png"))
            }
        }
        let event = APIGatewayV2Request(
            routeKey: "GET /d", rawPath: "/d", rawQueryString: "", cookies: nil, headers: [:], queryStringParameters: nil, pathParameters: nil,
            requestContext: .init(domainName: "x", http: .init(method: "GET", path: "/d", sourceIp: "1.2.3.4", userAgent: ""), requestId: "r", routeKey: "GET /d", time: "", timeEpoch: 0),
            body: nil, isBase64Encoded: false
        )
        let raw = try await Download().invoke(try JSON.encoder().encode(event), context: TestContext.make())
        let response = try JSON.decoder().decode(APIGatewayV2Response.self, from: raw)
        #expect(response.isBase64Encoded == true)
        #expect(response.bodyData == Data([0, 255, 1, 254]))
    }

    @Test func queueHandlersReportEachFailedMessage() async throws {
        struct Sum: QueueFunction {
            struct Message: Decodable, Sendable { var value: Int }
            func handle(_ message: Message, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
                struct Negative: Error {}
                if message.value < 0 { throw Negative() }
            }
        }
        let failed = try await HandlerTester.queue(Sum(), messages: [#"{"value":1}"#, #"{"value":-1}"#, "not json", #"{"value":2}"#])
        #expect(failed == ["m1", "m2"])
    }

    @Test func batchQueueHandlersSeeTheWholeBatchAndReportFailures() async throws {
        struct Evens: QueueBatchFunction {
            struct Message: Decodable, Sendable { var value: Int }
            func handle(_ batch: [QueueItem<Message>], context: FunctionContext) async throws -> [String] {
                #expect(batch.count == 3)
                return batch.filter { $0.message.value % 2 == 1 }.map(\.metadata.messageId)
            }
        }
        let event = SQSEvent(records: [#"{"value":2}"#, #"{"value":3}"#, "not json", #"{"value":4}"#].enumerated().map {
            SQSEvent.Message(messageId: "m\($0.offset)", body: $0.element, queue: "q")
        })
        let output = try await Evens().invoke(try JSON.encoder().encode(event), context: TestContext.make())
        let failed = try JSON.decoder().decode(SQSBatchResponse.self, from: output).batchItemFailures.map(\.itemIdentifier)
        #expect(failed.sorted() == ["m1", "m2"])
    }

    @Test func webSocketHandlersPushThroughTheirConnectionManager() async throws {
        struct Greeter: WebSocketFunction {
            func handle(_ event: APIGatewayWebSocketRequest, context: FunctionContext) async throws -> APIGatewayWebSocketResponse {
                try await context.connections.post(Data("hi".utf8), to: event.requestContext.connectionId)
                return .init(statusCode: 200)
            }
        }
        let connections = RecordingConnections()
        let event = APIGatewayWebSocketRequest(requestContext: .init(routeKey: "$default", eventType: "MESSAGE", connectionId: "c1", requestId: "r", messageId: "m", domainName: "x", connectedAt: 0, requestTimeEpoch: 0), body: "x")
        _ = try await Greeter().invoke(try JSON.encoder().encode(event), context: TestContext.make(connections: connections))
        #expect(connections.posts.map(\.connectionId) == ["c1"])
    }

    @Test func theContextCarriesDeadlineAndTaggedLogger() {
        let context = TestContext.make(function: "f", requestId: "r1", timeout: .seconds(3))
        #expect(context.remainingTime > .seconds(1) && context.remainingTime <= .seconds(3))
        #expect(context.logger[metadataKey: "function"] == "f")
        #expect(context.logger[metadataKey: "requestId"] == "r1")
    }
}
