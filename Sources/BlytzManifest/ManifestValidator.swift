/// Cross-entry rules: references, unique ports and routes, segment ownership, executables.
struct ManifestValidator {
    let manifest: Manifest
    let executables: ExecutableLookup?

    /// Gateway paths the runner keeps for itself.
    static let reservedSegments: Set<String> = ["_local", "health", "ready", "@connections", "api"]

    func problems() -> [ManifestProblem] {
        var problems: [ManifestProblem] = []
        func add(_ line: Int, _ reason: String) { problems.append(.init(file: manifest.file, line: line, reason: reason)) }

        var ports: [Int: String] = [:]
        for service in manifest.services {
            if let other = ports[service.port] { add(service.line, "service '\(service.name)' uses port \(service.port), as '\(other)' does") }
            ports[service.port] = service.name
        }

        var segmentOwner: [String: String] = [:]
        func claim(_ segment: String?, by service: String, line: Int, what: String) {
            guard let segment else {
                add(line, "\(what) must start with a literal segment (the gateway routes on it)")
                return
            }
            if Self.reservedSegments.contains(segment) { add(line, "\(what) uses the reserved segment '\(segment)'") }
            if let owner = segmentOwner[segment], owner != service {
                add(line, "\(what): the segment '/\(segment)' belongs to service '\(owner)' already")
            }
            segmentOwner[segment] = service
        }
        for service in manifest.services {
            if let path = service.websocketPath {
                claim(try? RoutePattern(path).firstLiteral, by: service.name, line: service.line, what: "websocket path of '\(service.name)'")
            }
        }

        var shapes: [String: String] = [:]
        var websocketRoutes: [String: String] = [:]
        for function in manifest.functions {
            guard let service = manifest.service(named: function.service) else {
                add(function.line, "function '\(function.name)' names service '\(function.service)', which is not declared")
                continue
            }
            switch function.trigger {
            case .http(let method, let pattern):
                claim(pattern.firstLiteral, by: service.name, line: function.line, what: "path of function '\(function.name)'")
                let key = "\(method) \(pattern.shape)"
                if let other = shapes[key] {
                    add(function.line, "function '\(function.name)' (\(method) \(pattern)) is ambiguous with '\(other)': both match the same requests")
                }
                shapes[key] = function.name
            case .websocket(let route):
                if service.websocketPath == nil {
                    add(function.line, "function '\(function.name)' is a websocket function, but service '\(service.name)' declares no websocket path")
                }
                let key = "\(service.name) \(route)"
                if let other = websocketRoutes[key] {
                    add(function.line, "websocket route '\(route)' of service '\(service.name)' is taken by '\(other)' already")
                }
                websocketRoutes[key] = function.name
                if route.hasPrefix("$") && !["$connect", "$disconnect", "$default"].contains(route) {
                    add(function.line, "websocket route '\(route)' is not one of $connect, $disconnect, $default or a named action")
                }
            case .queue, .schedule:
                break
            }
            if let executables, executables.required?.contains(service.name) ?? true {
                if let command = function.command {
                    if executables.command(command) == nil {
                        add(function.line, "command '\(command[0])' of function '\(function.name)' is not an executable file")
                    }
                } else if executables.executable(service.executable) == nil {
                    add(function.line, "executable '\(service.executable)' of service '\(service.name)' is missing from \(executables.binDirectory) (build it with swift build)")
                }
            }
        }
        return problems
    }
}
