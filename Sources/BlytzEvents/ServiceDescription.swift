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

        public init(name: String, handler: any FunctionHandler) {
            self.name = name
            self.handler = String(reflecting: type(of: handler))
            kind = switch handler {
            case is any HTTPFunction: "http"
            case is any WebSocketFunction: "websocket"
            case is any ScheduleFunction: "schedule"
            default: "queue"
            }
            events = (type(of: handler) as? any ConsumesEvents.Type)?.consumedTypes?.map(\.rawValue)
        }
    }

    public var service: String
    public var functions: [Function]

    public init(service: String, functions: [Function]) {
        self.service = service
        self.functions = functions
    }
}
