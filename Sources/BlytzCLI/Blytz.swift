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
        subcommands: [Local.self, Validate.self, Routes.self, OpenAPI.self, Template.self, PackageCommand.self, New.self, Invoke.self, Migrate.self, Seed.self, Events.self, ServicePassThrough.self]
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

    @Option(name: .long, help: "Largest request body accepted, in bytes.")
    var maxBodyBytes = 6 * 1024 * 1024

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var options = Runner.Options(
            manifestPath: manifestOptions.manifest,
            dataDirectory: data.path,
            binDirectory: manifestOptions.binDirectory
        )
        options.ephemeralPorts = ephemeralPorts
        options.gatewayPort = port
        options.watch = watch
        options.maxBodyBytes = maxBodyBytes
        let level = environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let logger = Logger(label: "blytz") { JSONLogHandler(label: $0, level: level) }
        do {
            try await Runner(options: options, logger: logger).run()
        } catch let error as ManifestError {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
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
        abstract: "Write the AWS SAM template of every function (its zip, HTTP and WebSocket routes, queues, schedules).",
        discussion: "Database URLs, the service key and each service's secrets are NoEcho parameters: give them to `sam deploy --parameter-overrides`."
    )

    @OptionGroup var manifestOptions: ManifestOptions

    @Option(name: .shortAndLong, help: "Where to write it (default: standard output).")
    var output: String?

    @Option(help: "The directory the template names the functions' zips in.")
    var packages = SAMTemplate.defaultPackages

    func run() throws {
        let manifest = try Manifest.load(path: manifestOptions.manifest, executables: manifestOptions.lookup())
        let result = try SAMTemplate.build(manifest, packages: packages)
        for note in result.notes { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
        try writeJSON(result.template, to: output)
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
