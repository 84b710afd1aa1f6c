import ArgumentParser
import Blytz
import BlytzData
import BlytzEvents
import BlytzManifest
import BlytzRunner
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// Runs Swift Concurrency on NIO's event loops, so request handling does not hop between thread pools.
@main
enum Entry {
    static func main() {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        Task {
            await BlytzCommand.main(ServicePassThrough.arguments(CommandLine.arguments.dropFirst()))
            exit(0)
        }
        dispatchMain()
    }
}

struct BlytzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blytz",
        abstract: "Run, check and call BlytzWork's functions.",
        subcommands: [Local.self, Serve.self, Compose.self, Health.self, Validate.self, Routes.self, OpenAPI.self, Template.self, PackageCommand.self, New.self, Invoke.self, Migrate.self, Seed.self, Import.self, Events.self, Logs.self, ServicePassThrough.self]
    )
}

/// Options every command that reads the manifest shares.
struct ManifestOptions: ParsableArguments {
    @Option(name: .long, help: "The manifest to read.")
    var manifest = "functions.yaml"

    @Option(name: .long, help: "Where the service executables are (default: beside blytz).")
    var binDir: String?

    var binDirectory: String {
        binDir ?? Self.ownDirectory
    }

    /// The folder of the running `blytz` executable, where SwiftPM puts the service executables too.
    static var ownDirectory: String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path).deletingLastPathComponent().path
    }

    func lookup(checkExecutables: Bool = true) -> ExecutableLookup? {
        guard checkExecutables else { return nil }
        let directory = URL(fileURLWithPath: manifest).standardizedFileURL.deletingLastPathComponent().path
        return ExecutableLookup(binDirectory: binDirectory, manifestDirectory: directory)
    }
}

/// Where local state lives, for every command that reads or writes it.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Logs and local state (default: $BLYTZ_DATA_DIR or local/.data).")
    var dataDir: String?

    /// The directory as an absolute path.
    var path: String {
        URL(fileURLWithPath: dataDir ?? ProcessInfo.processInfo.environment["BLYTZ_DATA_DIR"] ?? "local/.data").standardizedFileURL.path
    }
}

struct Local: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve every function locally: gateway on :3000, services on their ports.")

    @OptionGroup var manifestOptions: ManifestOptions

    @OptionGroup var data: DataDirectoryOption

    @Flag(name: .long, help: "Bind every listener to a free port; the ready line says which.")
    var ephemeralPorts = false

    @Option(name: .long, help: "The gateway's port.")
    var port = 3000

    @Flag(name: .long, help: "Rebuild a service when its sources change and replace its workers.")
    var watch = false

    @Option(name: .long, help: ArgumentHelp(
        "Flags of `swift build` that --watch adds to a service's default build command: the ones the executables were built with. Give them after `=`, e.g. --swift-build-flags='-c release'.",
        valueName: "flags"))
    var swiftBuildFlags = ""

    @Option(name: .long, help: "Largest request body accepted, in bytes.")
    var maxBodyBytes = 6 * 1024 * 1024

    @Flag(name: .long, inversion: .prefixedNo, help: "Keep recent invocations and spans for the dashboard at /_local/ on the gateway.")
    var dashboard = true

    func run() async throws {
        var options = Runner.Options(
            manifestPath: manifestOptions.manifest,
            dataDirectory: data.path,
            binDirectory: manifestOptions.binDirectory
        )
        options.ephemeralPorts = ephemeralPorts
        options.gatewayPort = port
        options.watch = watch
        options.swiftBuildFlags = swiftBuildFlags.split(separator: " ").map(String.init)
        options.maxBodyBytes = maxBodyBytes
        options.dashboard = dashboard
        try await Runner.serve(options, label: "blytz")
    }
}

extension Runner {
    /// Runs a runner with JSON logs at `LOG_LEVEL`; a bad manifest ends it with the reasons and status 1.
    static func serve(_ options: Options, label: String) async throws {
        let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        // A copy of the runner's own lines beside the workers' logs, where `blytz logs` reads them all.
        try FileManager.default.createDirectory(atPath: options.dataDirectory + "/logs", withIntermediateDirectories: true)
        let copy = open(options.dataDirectory + "/logs/runner.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        let logger = Logger(label: label) { JSONLogHandler(label: $0, level: level, copy: copy >= 0 ? copy : nil) }
        do {
            try await Runner(options: options, logger: logger).run()
        } catch let error as ManifestError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve one service as a process of its own, for running replicas behind a reverse proxy.",
        discussion: """
            The service's routes and WebSocket path listen on --host and its port; its worker pools, outbox relay, queue consumers, \
            schedules and WebSocket connections run inside. Replicas share the event queue (BLYTZ_QUEUE_URL, PostgreSQL): each event \
            reaches each subscribed function once per delivery attempt, each schedule slot fires once, and a push reaches a WebSocket \
            connection whichever replica holds it. Other services are called at BLYTZ_SERVICE_URL_<NAME>, else through \
            BLYTZ_GATEWAY_URL/api. The runner's own endpoints (/_local/*, /@connections/*) listen on loopback only (--admin-port).
            """
    )

    @Argument(help: "The service to serve.")
    var service: String

    @OptionGroup var manifestOptions: ManifestOptions

    @OptionGroup var data: DataDirectoryOption

    @Option(name: .long, help: "The address the service listens on.")
    var host = "0.0.0.0"

    @Option(name: .long, help: "The service's port (default: the manifest's).")
    var port: Int?

    @Option(name: .long, help: "The loopback port of the runner's own endpoints (0: a free one; the ready line says which).")
    var adminPort = 0

    @Option(name: .long, help: "Largest request body accepted, in bytes.")
    var maxBodyBytes = 6 * 1024 * 1024

    @Option(name: .long, help: "Seconds SIGTERM waits for in-flight work.")
    var drainTimeout = 10

    func run() async throws {
        var options = Runner.Options(manifestPath: manifestOptions.manifest, dataDirectory: data.path, binDirectory: manifestOptions.binDirectory)
        options.scope = .service(service)
        options.host = host
        options.servicePort = port
        options.adminPort = adminPort
        options.maxBodyBytes = maxBodyBytes
        options.drainTimeout = .seconds(drainTimeout)
        try await Runner.serve(options, label: "blytz.\(service)")
    }
}

struct Compose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the self-hosted deployment: a compose file (Traefik, PostgreSQL, a migration and each service's replicas), its image recipe and a settings example.",
        discussion: "Writes <directory>/compose.yaml, Dockerfile, Dockerfile.dockerignore and env.example; build the image from the package root."
    )

    @OptionGroup var manifestOptions: ManifestOptions

    @Option(name: .long, help: "Where to write the files.")
    var directory = "deploy"

    @Option(name: .long, help: "Replicas of every service.")
    var replicas = 2

    @Option(name: .long, parsing: .upToNextOption, help: "Replicas of one service, as service=count.")
    var scale: [String] = []

    @Option(name: .long, help: "The image every container runs.")
    var image = ComposeFile.Options().image

    func run() throws {
        let manifest = try Manifest.load(path: manifestOptions.manifest, executables: nil)
        var options = ComposeFile.Options()
        options.defaultReplicas = replicas
        options.image = image
        options.directory = directory
        guard !directory.hasPrefix("/"), !directory.split(separator: "/").contains("..") else {
            throw ValidationError("--directory is a folder inside the package (the image is built from the package root)")
        }
        for item in scale {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, manifest.service(named: parts[0]) != nil, let count = Int(parts[1]), count >= 0 else {
                throw ValidationError("--scale takes service=count with a service of the manifest; got '\(item)'")
            }
            options.replicas[parts[0]] = count
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let files = [
            ("compose.yaml", try ComposeFile.compose(manifest, options: options)),
            ("Dockerfile", ComposeFile.dockerfile(manifest, options: options)),
            ("Dockerfile.dockerignore", ComposeFile.dockerignore(options: options)),
            ("env.example", ComposeFile.environmentExample(manifest)),
        ] + (try ComposeFile.legacyRoutes(manifest).map { [(ComposeFile.legacyRoutesFile, $0)] } ?? [])
        for (name, text) in files {
            try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
            print("wrote \(directory)/\(name)")
        }
    }
}

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Exit 0 when the service on this machine answers GET /health with 200 (a container's health check)."
    )

    @Option(name: .long, help: "The service's port (default: $BLYTZ_HEALTH_PORT, else 3000).")
    var port: Int?

    func run() async throws {
        let port = port ?? ProcessInfo.processInfo.environment["BLYTZ_HEALTH_PORT"].flatMap(Int.init) ?? 3000
        let status = try? await LocalClient.get(host: "127.0.0.1", port: port, path: "/health")
        guard status == 200 else {
            FileHandle.standardError.write(Data("unhealthy: GET http://127.0.0.1:\(port)/health answered \(status.map(String.init) ?? "nothing")\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct OpenAPI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi",
        abstract: "Write the OpenAPI 3.1 document of every HTTP function (the gateway serves it at /openapi.json)."
    )

    @OptionGroup var manifestOptions: ManifestOptions

    @Option(name: .shortAndLong, help: "Where to write it (default: standard output).")
    var output: String?

    func run() throws {
        let lookup = manifestOptions.lookup()!
        let manifest = try Manifest.load(path: manifestOptions.manifest, executables: lookup)
        try writeJSON(OpenAPIDocument.build(manifest, descriptions: try ServiceDescription.read(manifest, lookup: lookup)), to: output)
    }
}

/// Writes `document` as indented JSON to the file `output`, or to standard output.
func writeJSON(_ document: JSONValue, to output: String?) throws {
    let encoder = JSON.encoder()
    encoder.outputFormatting.formUnion([.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    let data = try encoder.encode(document) + Data("\n".utf8)
    if let output {
        try data.write(to: URL(fileURLWithPath: output))
    } else {
        FileHandle.standardOutput.write(data)
    }
}

struct Template: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the AWS deployment: a root stack (the APIs, the parameters) and a SAM stack per service (its functions, routes, queues, schedules).",
        discussion: """
            Writes <directory>/template.json and <directory>/<service>.json. Database URLs, the service key and each service's secrets are NoEcho \
            parameters of the root stack: give them to `sam deploy --parameter-overrides`.
            """
    )

    @OptionGroup var manifestOptions: ManifestOptions

    @Option(name: .long, help: "Where to write the stacks.")
    var directory = ".build/sam"

    @Option(help: "The directory holding the functions' zips (`blytz package --output`; the stacks name it relative to themselves), or an s3:// prefix.")
    var packages = SAMTemplate.defaultPackages

    func run() throws {
        let manifest = try Manifest.load(path: manifestOptions.manifest, executables: manifestOptions.lookup())
        let result = try SAMTemplate.build(manifest, packages: packages.contains("://") ? packages : Self.relative(packages, from: directory))
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let root = "\(directory)/\(SAMTemplate.rootFile)"
        try writeJSON(result.root, to: root)
        print("wrote \(root): the HTTP and WebSocket APIs, the parameters, a nested stack per service")
        for (service, stack) in result.services.sorted(by: { $0.key < $1.key }) {
            try writeJSON(stack, to: "\(directory)/\(service).json")
            print("wrote \(directory)/\(service).json: \(manifest.functions(of: service).count) functions of \(service)")
        }
        for note in result.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
    }

    /// `path` as seen from `directory` (both relative to the current one, or absolute).
    static func relative(_ path: String, from directory: String) -> String {
        let target = URL(fileURLWithPath: path).standardizedFileURL.pathComponents
        let base = URL(fileURLWithPath: directory).standardizedFileURL.pathComponents
        let shared = zip(target, base).prefix { $0 == $1 }.count
        let parts = Array(repeating: "..", count: base.count - shared) + target.dropFirst(shared)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a manifest; print each problem as file:line: reason.")

    @Argument(help: "The manifest to check.")
    var path = "functions.yaml"

    @Option(name: .long, help: "Where the service executables are (default: beside blytz).")
    var binDir: String?

    @Flag(name: .long, help: "Do not check the executables: that they exist and serve what the manifest says (before a build).")
    var skipExecutables = false

    func run() throws {
        var options = ManifestOptions()
        options.manifest = path
        options.binDir = binDir
        do {
            let lookup = options.lookup(checkExecutables: !skipExecutables)
            let manifest = try Manifest.load(path: path, executables: lookup)
            if let lookup {
                let problems = manifest.contractProblems(try ServiceDescription.read(manifest, lookup: lookup))
                guard problems.isEmpty else { throw ManifestError(problems: problems) }
            }
            print("\(path): valid — \(manifest.services.count) services, \(manifest.functions.count) functions")
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Routes: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the routing table: every function, its trigger and URL.")

    @Argument(help: "The manifest to read.")
    var path = "functions.yaml"

    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        do {
            let listing = RoutesListing(manifest: try Manifest.load(path: path))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(listing.rows), as: UTF8.self))
            } else {
                print(listing.text)
            }
        } catch let error as ManifestError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Invoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Invoke one function of a running `blytz local` with a raw event and print its result.",
        discussion: "Without --event, an empty event of the function's trigger kind is sent."
    )

    @Argument(help: "The function's name.")
    var function: String

    @Option(name: .long, help: "The event, as JSON.")
    var event: String?

    @Option(name: .long, help: "A file holding the event.")
    var eventFile: String?

    @Option(name: .long, help: "The runner's gateway.")
    var gateway = "http://127.0.0.1:3000"

    func run() async throws {
        var body = Data()
        if let event { body = Data(event.utf8) }
        if let eventFile { body = try Data(contentsOf: URL(fileURLWithPath: eventFile)) }
        guard let url = URL(string: "\(gateway)/_local/functions/\(function)/invoke") else { throw ValidationError("bad gateway URL") }
        let (status, output) = try await LocalClient.post(url, body: body)
        print(String(decoding: output, as: UTF8.self))
        if !(200..<300).contains(status) { throw ExitCode(1) }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending migrations to each service's database (or the named ones).",
        discussion: "Databases are chosen as `blytz local` chooses them: <SERVICE>_DATABASE_URL, BLYTZ_DATABASE_URL, else SQLite files in the data directory."
    )

    @Argument(help: "Services to migrate (default: all).")
    var services: [String] = []

    @OptionGroup var manifestOptions: ManifestOptions

    @OptionGroup var data: DataDirectoryOption

    func run() async throws {
        try await manifestOptions.runServiceCommand(["migrate"], services: services, data: data)
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load demo data into each service's database (or the named ones), so the API can be tried at once.",
        discussion: "The user service adds a demo company and VAs with profiles; their password is BLYTZ_SEED_PASSWORD (default blytz-demo-pass). "
            + "The marketplace (with the backend running, since it reads the profiles from the user service) adds open jobs of the demo company and a proposal from each demo VA; "
            + "the contracts service a signed contract between the demo company and a demo VA, with milestones and timesheets, a completed one with another VA, "
            + "and an active one with a third whose milestone is funded through the payments service; "
            + "the payments service both parties' reviews of the completed contract and an open dispute of the funded one, for an admin to resolve; "
            + "the files service a featured portfolio item with an image for the first VA."
    )

    @Argument(help: "Services to seed (default: all).")
    var services: [String] = []

    @OptionGroup var manifestOptions: ManifestOptions

    @OptionGroup var data: DataDirectoryOption

    func run() async throws {
        try await manifestOptions.runServiceCommand(["seed"], services: services, data: data)
    }
}

extension ManifestOptions {
    /// Runs `<executable> arguments…` for each of `services` (all when empty) and prints what each said.
    func runServiceCommand(_ arguments: [String], services: [String], data: DataDirectoryOption, extraEnvironment: [String: String] = [:]) async throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            guard let lookup = lookup() else { return }
            let manifest = try Manifest.load(path: self.manifest, executables: lookup)
            for name in services where manifest.service(named: name) == nil {
                throw ValidationError("no service named '\(name)' in \(self.manifest)")
            }
            let commands = ServiceCommands(manifest: manifest, lookup: lookup, dataDirectory: data.path, environment: environment)
            for outcome in try await commands.run(arguments, services: services.isEmpty ? nil : services, extraEnvironment: extraEnvironment) {
                print(outcome.output.split(separator: "\n").last.map(String.init) ?? outcome.service)
            }
        } catch let error as ManifestError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as ServiceCommands.Failed {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Publish events and manage the dead-letter store.",
        subcommands: [Publish.self, DeadLetters.self]
    )

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue an event for every subscribed function of a running `blytz local`.")

        @Argument(help: "The event type, such as JobPosted.")
        var type: String

        @Argument(help: "The event's data, as JSON.")
        var data: String = "{}"

        @Option(name: .long, help: "The id of the object the event is about.")
        var subject: String?

        @Option(name: .long, help: "The runner's gateway.")
        var gateway = "http://127.0.0.1:3000"

        func run() async throws {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(data.utf8), options: [.fragmentsAllowed]) else {
                throw ValidationError("the data is not valid JSON")
            }
            var event: [String: Any] = ["type": type, "data": parsed]
            if let subject { event["subject"] = subject }
            guard let url = URL(string: "\(gateway)/_local/events") else { throw ValidationError("bad gateway URL") }
            let (status, output) = try await LocalClient.post(url, body: try JSONSerialization.data(withJSONObject: event))
            print(String(decoding: output, as: UTF8.self))
            if !(200..<300).contains(status) { throw ExitCode(1) }
        }
    }

    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dlq",
            abstract: "List, show, replay or purge dead-lettered deliveries (in $BLYTZ_QUEUE_URL, else the data directory's queue).",
            discussion: "Replayed deliveries are picked up by a running `blytz local` within a second."
        )

        enum Action: String, ExpressibleByArgument, CaseIterable {
            case list, show, replay, purge
        }

        @Argument(help: "list, show, replay or purge.")
        var action: Action

        @Argument(help: "Delivery numbers (default: all, or all of --function).")
        var deliveries: [Int] = []

        @Option(name: .long, help: "Only this function's deliveries.")
        var function: String?

        @OptionGroup var data: DataDirectoryOption

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let logger = Logger(label: "blytz") { JSONLogHandler(label: $0, level: .warning) }
            let queue = try await EventQueue.open(try EventQueue.location(environment: environment, dataDirectory: data.path), logger: logger)
            do {
                try await perform(on: queue)
                await queue.shutdown()
            } catch {
                await queue.shutdown()
                throw error
            }
        }

        private func perform(on queue: EventQueue) async throws {
            let selected = deliveries.isEmpty ? nil : deliveries
            switch action {
            case .list:
                for delivery in try await queue.dead(function: function) where selected?.contains(delivery.seq) ?? true {
                    print("\(delivery.seq)\t\(delivery.function)\t\(delivery.type)\t\(delivery.event_id)\tattempts \(delivery.attempts)\t\(delivery.last_error ?? "")")
                }
            case .show:
                for delivery in try await queue.dead(function: function) where selected?.contains(delivery.seq) ?? true {
                    print("delivery \(delivery.seq) to \(delivery.function), \(delivery.attempts) attempts: \(delivery.last_error ?? "")")
                    print(delivery.envelope)
                }
            case .replay:
                print("replayed \(try await queue.replay(function: function, seqs: selected, now: Int64(Date().timeIntervalSince1970 * 1000)))")
            case .purge:
                print("purged \(try await queue.purge(function: function, seqs: selected))")
            }
        }
    }
}

/// Calls the runner's local endpoints.
enum LocalClient {
    /// The status of `GET path`.
    static func get(host: String, port: Int, path: String) async throws -> Int {
        let connection = try await HTTPClientConnection.connect(host: host, port: port)
        do {
            let response = try await connection.request(.GET, path, headers: [:], body: nil)
            await connection.close()
            return response.status
        } catch {
            await connection.close()
            throw error
        }
    }

    static func post(_ url: URL, body: Data) async throws -> (Int, Data) {
        guard let host = url.host, let port = url.port else { throw ValidationError("the gateway URL needs a host and a port") }
        let connection = try await HTTPClientConnection.connect(host: host, port: port)
        do {
            let response = try await connection.request(.POST, url.path, headers: ["Content-Type": "application/json"], body: ByteBuffer(bytes: body))
            await connection.close()
            return (response.status, Data(response.body.readableBytesView))
        } catch {
            await connection.close()
            throw error
        }
    }
}
