import ArgumentParser
import Blytz
import BlytzEvents
import BlytzManifest
import Foundation

/// `blytz new service <name>` and `blytz new function <service> <name> --http|--queue|--schedule|--websocket`:
/// the files, the manifest entry and a first in-process test, which build, validate and pass as written.
struct New: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a new service or function from a skeleton that builds, validates and passes its test.",
        subcommands: [NewService.self, NewFunction.self]
    )
}

struct NewService: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "Add a service: its library and executable, its place in Package.swift, functions.yaml and ServiceName, and a test."
    )

    @Argument(help: "The service's name: lower-case letters (reports).")
    var name: String

    @Option(help: "Its port (default: the next free one after the others).")
    var port: Int?

    @Option(name: .long, help: "The project's root (default: the current directory).")
    var root = "."

    func run() throws {
        let project = try Project(root: root)
        guard name.range(of: "^[a-z]+$", options: .regularExpression) != nil else {
            throw ValidationError("a service name is lower-case letters only, like 'reports'")
        }
        let manifest = try project.manifest()
        guard !manifest.services.contains(where: { $0.name == name }) else { throw ValidationError("there is a service '\(name)' already") }
        let module = name.prefix(1).uppercased() + name.dropFirst()
        let port = port ?? (manifest.services.map(\.port).max() ?? 3000) + 1

        var edits = Edits(project: project)
        try edits.create("Sources/\(module)/\(module).swift", Templates.service(name: name, module: module))
        try edits.create("Sources/\(module)Worker/main.swift", Templates.worker(module: module))
        try edits.create("Tests/\(module)Tests/\(module)Tests.swift", Templates.serviceTest(name: name, module: module))
        try edits.change("Package.swift") { text in
            try Text.replacing(in: text, pattern: #"(let services = \[[^\]]*)\]"#, with: "$1, \"\(module)\"]", what: "the services list")
        }
        try edits.change("Package.swift") { text in
            try Text.insert(in: text, before: #"\n\]\.map \{ \(name: String, extra: \[Target\.Dependency\]\)"#, "\n    (\"\(module)Tests\", [\"\(module)\"]),", what: "the test targets")
        }
        try edits.change("Sources/BlytzEvents/People.swift") { text in
            try Text.insert(in: text, after: #"public enum ServiceName[^{]*\{[^}]*"#, "    case \(name)\n", what: "ServiceName")
        }
        try edits.change("functions.yaml") { text in
            let block = """
              \(name):
                port: \(port)
                executable: \(name)
                database: \(name)_db
                sources: [Sources/\(module), Sources/\(module)Worker, Sources/Blytz]

            """
            let withService = try Text.insert(in: text, before: #"\n\nfunctions:\n"#, "\n" + block.dropLast(), what: "the services section")
            return withService.trimmingTrailingNewlines + """


              # \(name) — Sources/\(module)/\(module).swift lists them; each handler's file is named below.
              # Sources/BlytzServices/AccountStatus.swift: refuses tokens of accounts the user service suspended or deleted
              \(name)-on-account-status: { service: \(name), handler: BlytzServices.AccountStatusConsumer, queue: { events: [UserUpdated, UserDeleted] } }

            """
        }
        try edits.check()
        try edits.write()
        print("""
        Added the \(name) service (port \(port)): \(edits.summary)
        Next: swift build, then `blytz new function \(name) <name> --http "GET /\(name)/…"`; run its test with
        ./local/test --filter \(module)Tests
        """)
    }
}

struct NewFunction: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "function",
        abstract: "Add a function to a service: its handler file, its entry in the service and functions.yaml, and a test."
    )

    @Argument(help: "The service it belongs to.")
    var service: String

    @Argument(help: "Its name within the service, lower-case words with dashes (list-reports → function reports-list-reports).")
    var name: String

    @Option(help: "An HTTP route: \"GET /reports/{id}\".")
    var http: String?

    @Option(help: "An event type to consume: UserUpdated.")
    var queue: String?

    @Option(help: "A cron schedule, six fields with seconds (UTC): \"0 0 * * * *\".")
    var schedule: String?

    @Option(help: "A WebSocket route: $connect, $disconnect, $default or an action name.")
    var websocket: String?

    @Option(name: .long, help: "The project's root (default: the current directory).")
    var root = "."

    func validate() throws {
        guard [http, queue, schedule, websocket].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one trigger: --http, --queue, --schedule or --websocket")
        }
        guard name.range(of: "^[a-z][a-z0-9]*(-[a-z0-9]+)*$", options: .regularExpression) != nil else {
            throw ValidationError("a function name is lower-case words joined by dashes, like 'list-reports'")
        }
    }

    func run() throws {
        let project = try Project(root: root)
        let manifest = try project.manifest()
        guard let spec = manifest.services.first(where: { $0.name == service }) else {
            throw ValidationError("no service '\(service)' in functions.yaml (services: \(manifest.services.map(\.name).joined(separator: ", ")))")
        }
        let module = service.prefix(1).uppercased() + service.dropFirst()
        let function = "\(service)-\(name)"
        guard manifest.function(named: function) == nil else { throw ValidationError("there is a function '\(function)' already") }
        let type = name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        let skeleton: Templates.Function
        let trigger: String
        if let http {
            let parts = http.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(parts[0].uppercased()) else {
                throw ValidationError("--http is a method and a path: \"GET /\(service)/…\"")
            }
            let pattern: RoutePattern
            do { pattern = try RoutePattern(parts[1]) } catch { throw ValidationError("--http: \(error.reason)") }
            skeleton = .http(method: parts[0].uppercased(), pattern: pattern)
            trigger = "http: \"\(parts[0].uppercased()) \(pattern)\""
        } else if let queue {
            guard EventCatalog.types.contains(where: { $0.rawValue == queue }) else {
                throw ValidationError("'\(queue)' is not an event type of BlytzEvents (\(EventCatalog.types.map(\.rawValue).joined(separator: ", ")))")
            }
            skeleton = .queue(event: queue)
            trigger = "queue: { events: [\(queue)] }"
        } else if let schedule {
            do { _ = try CronSchedule(schedule) } catch { throw ValidationError("--schedule: \(error.reason)") }
            skeleton = .schedule(cron: schedule)
            trigger = "schedule: \"\(schedule)\""
        } else {
            let route = websocket ?? "$default"
            skeleton = .websocket(route: route)
            trigger = "websocket: { route: \(route) }"
        }

        var edits = Edits(project: project)
        try edits.create("Sources/\(module)/\(type).swift", Templates.handler(skeleton, function: function, type: type))
        try edits.create("Tests/\(module)Tests/\(type)Tests.swift", Templates.functionTest(skeleton, service: service, module: module, function: function, type: type))
        try edits.change("Sources/\(module)/\(module).swift") { text in
            try Text.insert(
                in: text, before: #"\n    \]\n"#, "\n        \"\(function)\": \(type)(),", what: "the service's functions",
                after: #"static let functions: \[String: any FunctionHandler\] = \["#
            )
        }
        try edits.change("functions.yaml") { text in
            var text = text
            if case .websocket = skeleton, spec.websocketPath == nil {
                // A WebSocket function needs its service to accept connections; the path is the service's own.
                text = try Text.insert(in: text, after: "\n  \(service):\n(?:    [^\n]*\n)*?    database: [^\n]*\n", "    websocket: /\(service)-live\n", what: "the \(service) service")
            }
            let entry = "  # Sources/\(module)/\(type).swift\n  \(function): { service: \(service), handler: \(module).\(type), \(trigger) }"
            // After the service's last function, so its group stays together.
            let lines = text.components(separatedBy: "\n")
            guard let last = lines.lastIndex(where: { $0.hasPrefix("  \(service)-") }) else { return text.trimmingTrailingNewlines + "\n\n" + entry + "\n" }
            return (lines[...last] + [entry] + lines[(last + 1)...]).joined(separator: "\n")
        }
        try edits.check()
        try edits.write()
        print("Added \(function) (\(trigger)): \(edits.summary)\nNext: swift build, then ./local/test --filter \(type)Tests")
    }
}

/// The project being changed, and the manifest as it would read after the edits.
struct Project {
    let root: URL

    init(root: String) throws {
        self.root = URL(fileURLWithPath: root).standardizedFileURL
        for file in ["Package.swift", "functions.yaml"] where !FileManager.default.fileExists(atPath: self.root.appendingPathComponent(file).path) {
            throw ValidationError("\(self.root.path) has no \(file): run this at the project's root or pass --root")
        }
    }

    func url(_ path: String) -> URL { root.appendingPathComponent(path) }
    func read(_ path: String) throws -> String { try String(contentsOf: url(path), encoding: .utf8) }
    func manifest() throws -> Manifest { try Manifest.load(path: url("functions.yaml").path) }
}

/// A set of file changes checked as a whole before any is written: nothing is half-done.
struct Edits {
    let project: Project
    private(set) var files: [(path: String, text: String, created: Bool)] = []

    init(project: Project) { self.project = project }

    mutating func create(_ path: String, _ text: String) throws {
        guard !FileManager.default.fileExists(atPath: project.url(path).path) else { throw ValidationError("\(path) exists already") }
        files.append((path, text, true))
    }

    mutating func change(_ path: String, _ transform: (String) throws -> String) throws {
        let current = try files.last(where: { $0.path == path })?.text ?? project.read(path)
        files.removeAll { $0.path == path }
        files.append((path, try transform(current), false))
    }

    /// The manifest after the edits must validate (executables are checked after the build, by `blytz validate`).
    func check() throws {
        guard let manifest = files.last(where: { $0.path == "functions.yaml" }) else { return }
        do {
            _ = try Manifest.parse(manifest.text, file: project.url("functions.yaml").path)
        } catch {
            throw ValidationError("the new functions.yaml would not validate, so nothing was written:\n\(error)")
        }
    }

    func write() throws {
        for file in files {
            let url = project.url(file.path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try file.text.write(to: url, atomically: true, encoding: .utf8)
        }
    }

    var summary: String {
        let created = files.filter(\.created).map(\.path)
        let changed = files.filter { !$0.created }.map(\.path)
        return "wrote \(created.joined(separator: ", ")); changed \(changed.joined(separator: ", "))"
    }
}

/// Insertions at anchors found by regular expression; a missing anchor is an error naming what was looked for.
enum Text {
    static func insert(in text: String, after pattern: String, _ insertion: String, what: String) throws -> String {
        guard let range = text.range(of: pattern, options: .regularExpression) else { throw ValidationError("cannot find \(what) to change") }
        return text.replacingCharacters(in: range.upperBound..<range.upperBound, with: insertion)
    }

    /// Inserts before the first match of `pattern` (after the first match of `start`, when given).
    static func insert(in text: String, before pattern: String, _ insertion: String, what: String, after start: String? = nil) throws -> String {
        var from = text.startIndex
        if let start {
            guard let found = text.range(of: start, options: .regularExpression) else { throw ValidationError("cannot find \(what) to change") }
            from = found.upperBound
        }
        guard let range = text.range(of: pattern, options: .regularExpression, range: from..<text.endIndex) else { throw ValidationError("cannot find \(what) to change") }
        return text.replacingCharacters(in: range.lowerBound..<range.lowerBound, with: insertion)
    }

    static func replacing(in text: String, pattern: String, with template: String, what: String) throws -> String {
        let expression = try NSRegularExpression(pattern: pattern)
        let whole = NSRange(text.startIndex..., in: text)
        guard expression.firstMatch(in: text, range: whole) != nil else { throw ValidationError("cannot find \(what) to change") }
        return expression.stringByReplacingMatches(in: text, range: whole, withTemplate: template)
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
