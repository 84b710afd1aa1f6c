import Foundation
import Yams

extension Manifest {
    /// Reads and validates the manifest at `path`.
    ///
    /// `executables` says where service executables are looked for; a manifest naming one that is not
    /// there is refused. Relative `command` paths resolve against the manifest's folder.
    public static func load(path: String, executables: ExecutableLookup? = nil) throws(ManifestError) -> Manifest {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ManifestError(problems: [.init(file: path, line: 0, reason: "cannot read the file: \(error.localizedDescription)")])
        }
        return try parse(text, file: path, executables: executables)
    }

    /// Parses and validates manifest `text`, naming `file` in problems.
    public static func parse(_ text: String, file: String, executables: ExecutableLookup? = nil) throws(ManifestError) -> Manifest {
        var reader = ManifestReader(file: file)
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ManifestError(problems: [.init(file: file, line: error.line(in: text), reason: "not valid YAML: \(error.reason)")])
        } catch {
            throw ManifestError(problems: [.init(file: file, line: 0, reason: "not valid YAML: \(error)")])
        }
        guard let root else {
            throw ManifestError(problems: [.init(file: file, line: 1, reason: "the manifest is empty")])
        }
        let manifest = reader.manifest(root)
        var problems = reader.problems
        if problems.isEmpty {
            problems = ManifestValidator(manifest: manifest, executables: executables).problems()
        }
        guard problems.isEmpty else { throw ManifestError(problems: problems) }
        return manifest
    }
}

extension YamlError {
    /// The line of the problem; for a duplicated key, the line of its last occurrence.
    fileprivate func line(in text: String) -> Int {
        if case .duplicatedKeysInMapping(let duplicates, _) = self, let key = duplicates.first {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let found = lines.indices.filter { index in
                let trimmed = lines[index].drop { $0 == " " || $0 == "-" }
                return trimmed.hasPrefix("\(key):") || trimmed.hasPrefix("\"\(key)\":")
            }
            if let last = found.last { return last + 1 }
        }
        return line
    }

    private var line: Int {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        case .duplicatedKeysInMapping(_, let context): context.mark.line
        default: 0
        }
    }

    fileprivate var reason: String {
        switch self {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        case .reader(let problem, _, _, _): problem
        case .duplicatedKeysInMapping(let duplicates, _): "duplicate key \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")) (names must be unique)"
        default: "\(self)"
        }
    }
}

/// Walks the YAML node tree into a `Manifest`, collecting problems with their lines.
struct ManifestReader {
    let file: String
    var problems: [ManifestProblem] = []

    init(file: String) {
        self.file = file
    }

    mutating func problem(_ node: Node?, _ reason: String) {
        problems.append(.init(file: file, line: node?.mark?.line ?? 0, reason: reason))
    }

    /// The entries of a mapping, refusing keys outside `allowed` and keys given twice.
    mutating func entries(_ node: Node, _ what: String, allowed: Set<String>? = nil) -> [(key: String, keyNode: Node, value: Node)] {
        guard let mapping = node.mapping else {
            problem(node, "\(what) must be a mapping")
            return []
        }
        var seen = Set<String>()
        var result: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                problem(keyNode, "\(what) has a key that is not a plain string")
                continue
            }
            if let allowed, !allowed.contains(key) {
                problem(keyNode, "unknown key '\(key)' in \(what) (allowed: \(allowed.sorted().joined(separator: ", ")))")
                continue
            }
            guard seen.insert(key).inserted else {
                problem(keyNode, "key '\(key)' appears twice in \(what)")
                continue
            }
            result.append((key, keyNode, value))
        }
        return result
    }

    mutating func string(_ node: Node, _ what: String) -> String? {
        guard let scalar = node.scalar, !scalar.string.isEmpty else {
            problem(node, "\(what) must be a non-empty string")
            return nil
        }
        return scalar.string
    }

    mutating func int(_ node: Node, _ what: String, range: ClosedRange<Int>) -> Int? {
        guard let value = node.scalar.flatMap({ Int($0.string) }), range.contains(value) else {
            problem(node, "\(what) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return value
    }

    mutating func duration(_ node: Node, _ what: String) -> Duration? {
        guard let value = node.scalar.flatMap({ Duration(manifest: $0.string) }) else {
            problem(node, "\(what) must be a duration such as 500ms, 10s, 2m or 1h")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, _ what: String) -> Bool? {
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            problem(node, "\(what) must be true or false")
            return nil
        }
    }

    mutating func strings(_ node: Node, _ what: String) -> [String]? {
        if let scalar = node.scalar { return scalar.string.isEmpty ? nil : [scalar.string] }
        guard let sequence = node.sequence else {
            problem(node, "\(what) must be a string or a list of strings")
            return nil
        }
        var values: [String] = []
        for item in sequence {
            guard let value = string(item, "each entry of \(what)") else { return nil }
            values.append(value)
        }
        return values
    }

    mutating func manifest(_ root: Node) -> Manifest {
        var services: [ServiceSpec] = []
        var functions: [FunctionSpec] = []
        var defaults = FunctionDefaults()
        let top = entries(root, "the manifest", allowed: ["version", "defaults", "services", "functions", "legacy"])
        if let version = top.first(where: { $0.key == "version" }), version.value.scalar?.string != "1" {
            problem(version.value, "version must be 1")
        }
        if top.first(where: { $0.key == "services" }) == nil { problem(root, "the manifest has no 'services'") }
        if let node = top.first(where: { $0.key == "defaults" })?.value {
            defaults = self.defaults(node)
        }
        if let node = top.first(where: { $0.key == "services" })?.value {
            for entry in entries(node, "services") {
                if let service = service(name: entry.key, entry.value, line: entry.keyNode.mark?.line ?? 0) {
                    services.append(service)
                }
            }
        }
        if let node = top.first(where: { $0.key == "functions" })?.value {
            for entry in entries(node, "functions") {
                if let function = function(name: entry.key, entry.value, defaults: defaults, line: entry.keyNode.mark?.line ?? 0) {
                    functions.append(function)
                }
            }
        }
        let legacy = top.first(where: { $0.key == "legacy" }).flatMap { self.legacy($0.value, line: $0.keyNode.mark?.line ?? 0) }
        return Manifest(file: file, services: services, functions: functions, legacy: legacy)
    }

    mutating func legacy(_ node: Node, line: Int) -> LegacyUpstream? {
        var upstream: String?
        var prefixes: [String]?
        let fields = entries(node, "legacy", allowed: ["upstream", "prefixes"])
        for entry in fields {
            if entry.key == "upstream" {
                upstream = string(entry.value, "legacy.upstream")
                if let url = upstream, !(url.hasPrefix("http://") || url.hasPrefix("https://")) || url.dropFirst(8).isEmpty {
                    problem(entry.value, "legacy.upstream must be an http:// or https:// URL")
                }
            } else {
                prefixes = strings(entry.value, "legacy.prefixes")
                for prefix in prefixes ?? [] where !prefix.hasPrefix("/") || prefix == "/" {
                    problem(entry.value, "legacy prefix '\(prefix)' must start with / and name at least one segment")
                }
            }
        }
        if upstream == nil { problem(node, "legacy has no 'upstream'") }
        guard let upstream else { return nil }
        return LegacyUpstream(upstream: upstream.hasSuffix("/") ? String(upstream.dropLast()) : upstream, prefixes: prefixes ?? [], line: line)
    }

    struct FunctionDefaults {
        var timeout: Duration = .seconds(10)
        var memoryMB = 256
        var scaling = Scaling(min: 0, max: 4, idle: .seconds(60), backlog: 64)
        var queue = QueueTrigger(
            events: [], batchSize: 10, batchWindow: .zero, maxRetries: 5,
            backoff: Backoff(initial: .milliseconds(200), maximum: .seconds(30), multiplier: 2), deadLetter: true
        )
    }

    mutating func defaults(_ node: Node) -> FunctionDefaults {
        var defaults = FunctionDefaults()
        for entry in entries(node, "defaults", allowed: ["timeout", "memory", "scaling", "queue"]) {
            switch entry.key {
            case "timeout": defaults.timeout = duration(entry.value, "defaults.timeout") ?? defaults.timeout
            case "memory": defaults.memoryMB = int(entry.value, "defaults.memory", range: 128...10240) ?? defaults.memoryMB
            case "scaling": defaults.scaling = scaling(entry.value, base: defaults.scaling, "defaults.scaling")
            default: defaults.queue = queue(entry.value, base: defaults.queue, "defaults.queue", requireEvents: false)
            }
        }
        return defaults
    }

    mutating func service(name: String, _ node: Node, line: Int) -> ServiceSpec? {
        var port: Int?
        var executable: String?
        var database: String?
        var sources: [String]?
        var build: [String]?
        var websocket: String?
        var secrets: [String]?
        let fields = entries(node, "service '\(name)'", allowed: ["port", "executable", "database", "sources", "build", "websocket", "secrets"])
        for entry in fields {
            switch entry.key {
            case "port": port = int(entry.value, "port of service '\(name)'", range: 1...65535)
            case "executable": executable = string(entry.value, "executable of service '\(name)'")
            case "database": database = string(entry.value, "database of service '\(name)'")
            case "sources": sources = strings(entry.value, "sources of service '\(name)'")
            case "build": build = strings(entry.value, "build of service '\(name)'")
            case "secrets":
                secrets = strings(entry.value, "secrets of service '\(name)'")
                for secret in secrets ?? [] where secret.isEmpty || !secret.allSatisfy({ ($0.isUppercase && $0.isASCII) || $0.isNumber || $0 == "_" }) {
                    problem(entry.value, "secret '\(secret)' of service '\(name)' must be an environment variable name (A-Z, 0-9, _)")
                }
            default:
                websocket = string(entry.value, "websocket path of service '\(name)'")
                if let path = websocket, !path.hasPrefix("/") {
                    problem(entry.value, "websocket path of service '\(name)' must start with /")
                }
            }
        }
        let present = Set(fields.map(\.key))
        for required in ["port", "executable", "database"] where !present.contains(required) {
            problem(node, "service '\(name)' has no '\(required)'")
        }
        guard let port, let executable, let database else { return nil }
        return ServiceSpec(
            name: name, port: port, executable: executable, database: database,
            sources: sources ?? [], build: build,
            websocketPath: websocket, secrets: secrets ?? [], line: line
        )
    }

    mutating func scaling(_ node: Node, base: Scaling, _ what: String) -> Scaling {
        var scaling = base
        for entry in entries(node, what, allowed: ["min", "max", "idle", "backlog"]) {
            switch entry.key {
            case "min": scaling.min = int(entry.value, "\(what).min", range: 0...256) ?? scaling.min
            case "max": scaling.max = int(entry.value, "\(what).max", range: 1...256) ?? scaling.max
            case "idle": scaling.idle = duration(entry.value, "\(what).idle") ?? scaling.idle
            default: scaling.backlog = int(entry.value, "\(what).backlog", range: 0...100_000) ?? scaling.backlog
            }
        }
        if scaling.min > scaling.max { problem(node, "\(what): min (\(scaling.min)) is above max (\(scaling.max))") }
        return scaling
    }

    mutating func queue(_ node: Node, base: QueueTrigger, _ what: String, requireEvents: Bool) -> QueueTrigger {
        var queue = base
        let fields = entries(
            node, what, allowed: ["events", "batchSize", "batchWindow", "maxRetries", "backoff", "deadLetter"]
        )
        for entry in fields {
            switch entry.key {
            case "events": queue.events = strings(entry.value, "\(what).events") ?? []
            case "batchSize": queue.batchSize = int(entry.value, "\(what).batchSize", range: 1...10_000) ?? queue.batchSize
            case "batchWindow": queue.batchWindow = duration(entry.value, "\(what).batchWindow") ?? queue.batchWindow
            case "maxRetries": queue.maxRetries = int(entry.value, "\(what).maxRetries", range: 0...100) ?? queue.maxRetries
            case "deadLetter": queue.deadLetter = bool(entry.value, "\(what).deadLetter") ?? queue.deadLetter
            default:
                for field in entries(entry.value, "\(what).backoff", allowed: ["initial", "max", "multiplier"]) {
                    switch field.key {
                    case "initial": queue.backoff.initial = duration(field.value, "backoff.initial") ?? queue.backoff.initial
                    case "max": queue.backoff.maximum = duration(field.value, "backoff.max") ?? queue.backoff.maximum
                    default:
                        if let value = field.value.scalar.flatMap({ Double($0.string) }), value >= 1, value <= 10 {
                            queue.backoff.multiplier = value
                        } else {
                            problem(field.value, "backoff.multiplier must be a number from 1 to 10")
                        }
                    }
                }
            }
        }
        if requireEvents && queue.events.isEmpty { problem(node, "\(what) names no events") }
        return queue
    }

    mutating func function(name: String, _ node: Node, defaults: FunctionDefaults, line: Int) -> FunctionSpec? {
        let allowed: Set<String> = [
            "service", "handler", "http", "queue", "schedule", "websocket", "timeout", "memory", "scaling",
            "environment", "command",
        ]
        let fields = entries(node, "function '\(name)'", allowed: allowed)
        var service: String?
        var handler: String?
        var triggers: [(Node, Trigger?)] = []
        var timeout = defaults.timeout
        var memory = defaults.memoryMB
        var scaling = defaults.scaling
        var environment: [String: String] = [:]
        var command: [String]?
        for entry in fields {
            let what = "\(entry.key) of function '\(name)'"
            switch entry.key {
            case "service": service = string(entry.value, what)
            case "handler": handler = string(entry.value, what)
            case "http": triggers.append((entry.keyNode, httpTrigger(entry.value, what)))
            case "queue": triggers.append((entry.keyNode, .queue(queue(entry.value, base: defaults.queue, what, requireEvents: true))))
            case "schedule":
                let expression = string(entry.value, what)
                var cron: CronSchedule?
                if let expression {
                    do { cron = try CronSchedule(expression) } catch { problem(entry.value, "bad cron in \(what): \(error.reason)") }
                }
                triggers.append((entry.keyNode, cron.map(Trigger.schedule)))
            case "websocket":
                var route: String?
                for field in entries(entry.value, what, allowed: ["route"]) { route = string(field.value, "websocket.route") }
                if route == nil, entry.value.mapping != nil { problem(entry.value, "\(what) has no route") }
                triggers.append((entry.keyNode, route.map { .websocket(route: $0) }))
            case "timeout": timeout = duration(entry.value, what) ?? timeout
            case "memory": memory = int(entry.value, what, range: 128...10240) ?? memory
            case "scaling": scaling = self.scaling(entry.value, base: defaults.scaling, what)
            case "environment":
                for variable in entries(entry.value, what) {
                    environment[variable.key] = variable.value.scalar?.string ?? ""
                }
            default: command = strings(entry.value, what)
            }
        }
        if service == nil { problem(node, "function '\(name)' has no 'service'") }
        if triggers.isEmpty { problem(node, "function '\(name)' has no trigger (http, queue, schedule or websocket)") }
        if triggers.count > 1 { problem(triggers[1].0, "function '\(name)' has more than one trigger") }
        if timeout <= .zero || timeout > .seconds(900) { problem(node, "timeout of function '\(name)' must be above 0 and at most 15m") }
        guard let service, triggers.count == 1, let trigger = triggers[0].1 else { return nil }
        return FunctionSpec(
            name: name, service: service, handler: handler, trigger: trigger, timeout: timeout, memoryMB: memory,
            scaling: scaling, environment: environment, command: command, line: line
        )
    }

    mutating func httpTrigger(_ node: Node, _ what: String) -> Trigger? {
        guard let text = string(node, what) else { return nil }
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        let methods: Set<String> = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        guard parts.count == 2, methods.contains(String(parts[0])) else {
            problem(node, "\(what) must be 'METHOD /path' with METHOD one of \(methods.sorted().joined(separator: ", "))")
            return nil
        }
        do {
            return .http(method: String(parts[0]), path: try RoutePattern(String(parts[1])))
        } catch {
            problem(node, "bad path in \(what): \(error.reason)")
            return nil
        }
    }
}
