import BlytzManifest

/// The files `blytz new` writes. Each is the smallest code that follows the project's shape.
enum Templates {
    enum Function {
        case http(method: String, pattern: RoutePattern)
        case queue(event: String)
        case schedule(cron: String)
        case websocket(route: String)
    }

    static func service(name: String, module: String) -> String {
        """
        import Blytz
        import BlytzData
        import BlytzEvents
        import BlytzServices

        /// The \(name) service's functions, by the names `functions.yaml` gives them.
        public enum \(module): BlytzService {
            public static let name = ServiceName.\(name)

            public static let functions: [String: any FunctionHandler] = [
                "\(name)-on-account-status": AccountStatusConsumer(),
            ]
        }

        """
    }

    static func worker(module: String) -> String {
        """
        import BlytzServices
        import \(module)

        \(module).main()

        """
    }

    static func serviceTest(name: String, module: String) -> String {
        """
        import Blytz
        import BlytzData
        import BlytzEvents
        import BlytzTesting
        import Foundation
        import Testing
        import \(module)

        @Suite struct \(module)Tests {
            @Test func theServiceTakesAccountStatusEvents() async throws {
                try await ServiceHarness<\(module)>.with(.sqlite) { \(name) in
                    let change = try SchemaCollector().placeholder(UserUpdated.self)
                    #expect(try await \(name).deliver([change], to: "\(name)-on-account-status").isEmpty)
                }
            }
        }

        """
    }

    static func handler(_ function: Function, function name: String, type: String) -> String {
        switch function {
        case .http(let method, let pattern):
            let takesBody = ["POST", "PUT", "PATCH"].contains(method)
            let input = takesBody ? """

                    struct Input: Codable, Sendable, Validatable {
                        var note: String

                        func validate() -> [Problem.FieldError] {
                            note.isEmpty ? [.init(field: "note", message: "must not be empty")] : []
                        }
                    }

                """ : ""
            return """
            import Blytz
            import BlytzServices
            import Foundation

            /// `\(method) \(pattern)`: answers the signed-in caller (\(name)).
            struct \(type): HTTPFunction {
                static let access = Access.signedIn
            \(input)
                struct Output: Codable, Sendable, ResponseBody {
                    var function: String
                    var userId: String
                    var parameters: [String: String]\(takesBody ? "\n        var note: String" : "")
                }

                func handle(_ request: FunctionRequest<\(takesBody ? "Input" : "Empty")>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Output> {
                    .ok(Output(function: context.functionName, userId: caller.userId, parameters: request.pathParameters\(takesBody ? ", note: try request.input.note" : "")))
                }
            }

            """
        case .queue(let event):
            return """
            import Blytz
            import BlytzEvents
            import Logging

            /// Consumes `\(event)` (\(name)).
            struct \(type): EventConsumer {
                func handle(_ event: EventEnvelope<\(event)>, context: FunctionContext) async throws {
                    context.logger.info("consumed", metadata: ["event.id": "\\(event.id)", "event.type": "\\(\(event).type)"])
                }
            }

            """
        case .schedule(let cron):
            return """
            import Blytz
            import Logging

            /// Runs on `\(cron)` (UTC) (\(name)).
            struct \(type): ScheduleFunction {
                func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
                    context.logger.info("fired", metadata: ["time": "\\(event.time)"])
                }
            }

            """
        case .websocket(let route):
            return """
            import Blytz

            /// The WebSocket route `\(route)` (\(name)): answers what the client sent.
            struct \(type): WebSocketFunction {
                func handle(_ event: APIGatewayWebSocketRequest, context: FunctionContext) async throws -> APIGatewayWebSocketResponse {
                    APIGatewayWebSocketResponse(statusCode: 200, body: event.body)
                }
            }

            """
        }
    }

    static func functionTest(_ function: Function, service: String, module: String, function name: String, type: String) -> String {
        let body: String
        switch function {
        case .http(let method, let pattern):
            let takesBody = ["POST", "PUT", "PATCH"].contains(method)
            let path = "/" + pattern.segments.map { segment in
                switch segment {
                case .literal(let text): text
                case .parameter: "example"
                case .greedy: "example/path"
                }
            }.joined(separator: "/")
            let json = takesBody ? ", json: #\"{\"note\":\"hello\"}\"#" : ""
            body = """
                    @Test func answersASignedInCallerAndRefusesOthers() async throws {
                        try await ServiceHarness<\(module)>.with(.sqlite) { \(service) in
                            let userId = UUID().uuidString.lowercased()
                            let reply = try await \(service).call(.\(method.lowercased()), "\(path)"\(json), as: .person(userId, .va))
                            #expect(reply.status == .ok)
                            #expect(try reply.json(\(type).Output.self).userId == userId)
                            #expect(try await \(service).call(.\(method.lowercased()), "\(path)"\(json)).status == .unauthorized)
                        }
                    }
                """
        case .queue(let event):
            body = """
                    @Test func consumesTheEvent() async throws {
                        try await ServiceHarness<\(module)>.with(.sqlite) { \(service) in
                            let event = try SchemaCollector().placeholder(\(event).self)
                            #expect(try await \(service).deliver([event], to: "\(name)").isEmpty)
                        }
                    }
                """
        case .schedule:
            body = """
                    @Test func runsWhenFired() async throws {
                        try await ServiceHarness<\(module)>.with(.sqlite) { \(service) in
                            try await \(service).fire("\(name)")
                        }
                    }
                """
        case .websocket(let route):
            body = """
                    @Test func answersWhatTheClientSent() async throws {
                        try await ServiceHarness<\(module)>.with(.sqlite) { \(service) in
                            let reply = try await \(service).webSocket("\(name)", route: "\(route)", body: #"{"action":"hello"}"#)
                            #expect(reply.statusCode == 200 && reply.body == #"{"action":"hello"}"#)
                        }
                    }
                """
        }
        return """
        import Blytz
        import BlytzData
        import BlytzEvents
        import BlytzTesting
        import Foundation
        import HTTPTypes
        import Testing

        @testable import \(module)

        @Suite struct \(type)Tests {
        \(body)
        }

        """
    }
}
