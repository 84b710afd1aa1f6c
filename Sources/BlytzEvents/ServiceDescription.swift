import Blytz

/// What `<executable> describe` prints.
public struct ServiceDescription: Codable, Sendable, Equatable {
    public struct Function: Codable, Sendable, Equatable {
        public var name: String
        /// The handler's type as `Module.Type`.
        public var handler: String
        /// `http`, `queue`, `schedule` or `websocket`.
        public var kind: String
        /// The event types a queue handler decodes; nil for a handler of every type or of none.
        public var events: [String]?
        /// An HTTP function's access and body schemas.
        public var http: HTTP?

        /// What the OpenAPI document says of an HTTP function: who may call it, and its bodies' schemas.
        public struct HTTP: Codable, Sendable, Equatable {
            public var access: AccessDeclaration
            /// The query parameters it reads.
            public var query: [QueryParameter]?
            public var input: JSONValue?
            /// True when the body may be left out.
            public var inputOptional: Bool?
            public var output: JSONValue?
            public var outputContentType: String?
            /// Other media types the response may come in, with their schemas.
            public var alternateOutputs: [String: JSONValue]?
        }

        public init(name: String, handler: any FunctionHandler, schemas: SchemaCollector) {
            self.name = name
            self.handler = String(reflecting: type(of: handler))
            kind = switch handler {
            case is any HTTPFunction: "http"
            case is any WebSocketFunction: "websocket"
            case is any ScheduleFunction: "schedule"
            default: "queue"
            }
            events = (type(of: handler) as? any ConsumesEvents.Type)?.consumedTypes?.map(\.rawValue)
            if let http = type(of: handler) as? any HTTPFunction.Type {
                let output = http.outputSchema(schemas)
                let query = http.queryParameters
                self.http = HTTP(
                    access: http.access.declaration, query: query.isEmpty ? nil : query, input: http.inputSchema(schemas),
                    inputOptional: http.inputIsOptional ? true : nil, output: output?.schema, outputContentType: output?.contentType,
                    alternateOutputs: http.alternateOutputs
                )
            }
        }
    }

    public var service: String
    public var functions: [Function]
    /// The named schemas the functions' bodies refer to (`#/components/schemas/<name>`).
    public var schemas: [String: JSONValue]?

    /// The description of `functions`, keyed by function name.
    public init(service: String, functions: [String: any FunctionHandler]) {
        let schemas = SchemaCollector()
        self.service = service
        self.functions = functions.sorted { $0.key < $1.key }.map { Function(name: $0.key, handler: $0.value, schemas: schemas) }
        self.schemas = schemas.components
    }
}
