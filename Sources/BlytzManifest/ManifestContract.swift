import Blytz
import BlytzEvents

extension Manifest {
    /// What the manifest claims against what the executables serve (`<executable> describe`): each
    /// function must be served by its service's executable, with the handler type the entry names and a
    /// handler of its trigger's kind; each queue must subscribe to event types of the contract
    /// (`EventCatalog`) that its handler decodes. Services missing from `descriptions` (executables that
    /// do not describe themselves, such as the test fixtures) are not checked.
    public func contractProblems(_ descriptions: [String: ServiceDescription], eventTypes: Set<EventType> = Set(EventCatalog.types)) -> [ManifestProblem] {
        var problems: [ManifestProblem] = []
        for function in functions where function.command == nil {
            guard let description = descriptions[function.service] else { continue }
            func add(_ reason: String) { problems.append(.init(file: file, line: function.line, reason: reason)) }
            let executable = service(named: function.service)?.executable ?? function.service
            guard let served = description.functions.first(where: { $0.name == function.name }) else {
                add("function '\(function.name)' is not served by the executable '\(executable)' (it serves: \(description.functions.map(\.name).joined(separator: ", ")))")
                continue
            }
            if let handler = function.handler, handler != served.handler {
                add("function '\(function.name)' names the handler \(handler), but the executable '\(executable)' serves it with \(served.handler)")
            }
            if served.kind != function.trigger.kind {
                add("function '\(function.name)' is triggered by \(function.trigger.kind), but its handler \(served.handler) is a \(served.kind) handler")
            }
            guard case .queue(let queue) = function.trigger else { continue }
            for event in queue.events where event != "*" {
                guard eventTypes.contains(EventType(rawValue: event)) else {
                    add("function '\(function.name)' subscribes to '\(event)', which is not an event type (known: \(eventTypes.sorted().map(\.rawValue).joined(separator: ", ")))")
                    continue
                }
                if let consumed = served.events, !consumed.contains(event) {
                    add("function '\(function.name)' subscribes to '\(event)', but its handler \(served.handler) decodes only \(consumed.joined(separator: ", "))")
                }
            }
            if queue.events.contains("*"), let consumed = served.events {
                add("function '\(function.name)' subscribes to every event type, but its handler \(served.handler) decodes only \(consumed.joined(separator: ", "))")
            }
        }
        return problems
    }
}

extension Trigger {
    /// `http`, `queue`, `schedule` or `websocket`, as `describe` names handler kinds.
    public var kind: String {
        switch self {
        case .http: "http"
        case .queue: "queue"
        case .schedule: "schedule"
        case .websocket: "websocket"
        }
    }
}
