import BlytzManifest
import Foundation
import NIOCore
import NIOPosix

/// Runs a command of each service's executable, one service after another: `<executable> migrate`
/// applies its migrations (the service's own code knows its schema; `blytz local` does it before serving,
/// `blytz migrate` on demand), `seed` loads demo data, and a service may have commands of its own
/// (`blytz users create-admin`).
public struct ServiceCommands: Sendable {
    /// What one service's run said.
    public struct Outcome: Sendable {
        public var service: String
        public var exitCode: Int32
        public var output: String
    }

    /// A service whose command failed.
    public struct Failed: Error, CustomStringConvertible {
        public var command: String
        public var outcome: Outcome
        public var description: String { "\(command) of \(outcome.service) failed (exit \(outcome.exitCode)):\n\(outcome.output)" }
    }

    let manifest: Manifest
    let lookup: ExecutableLookup
    let dataDirectory: String
    let environment: [String: String]

    public init(manifest: Manifest, lookup: ExecutableLookup, dataDirectory: String, environment: [String: String]) {
        self.manifest = manifest
        self.lookup = lookup
        self.dataDirectory = dataDirectory
        self.environment = environment
    }

    /// The environment a command of `service`'s executable runs with: what its workers get, less the Runtime API.
    public static func environment(of service: ServiceSpec, manifest: Manifest, environment: [String: String], dataDirectory: String) -> [String: String] {
        WorkerLauncher.commandEnvironment(of: service, manifest: manifest, environment: environment, dataDirectory: dataDirectory)
    }

    /// Migrates `services` (all by default); throws `Failed` at the first failure.
    public func migrate(_ services: [String]? = nil) async throws -> [Outcome] {
        try await run(["migrate"], services: services)
    }

    /// Runs `<executable> arguments…` for `services` (all by default) with `extraEnvironment` added;
    /// throws `Failed` at the first failure.
    public func run(_ arguments: [String], services: [String]? = nil, extraEnvironment: [String: String] = [:]) async throws -> [Outcome] {
        try FileManager.default.createDirectory(atPath: "\(dataDirectory)/logs", withIntermediateDirectories: true)
        let spawner = ProcessSpawner(group: .singletonMultiThreadedEventLoopGroup)
        do {
            let outcomes = try await run(arguments, services: services, extraEnvironment: extraEnvironment, spawner: spawner)
            await spawner.shutdown()
            return outcomes
        } catch {
            await spawner.shutdown()
            throw error
        }
    }

    private func run(_ arguments: [String], services: [String]?, extraEnvironment: [String: String], spawner: ProcessSpawner) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for service in manifest.services where services?.contains(service.name) ?? true {
            // A service whose functions all run other programs has no executable of its own to ask.
            let functions = manifest.functions(of: service.name)
            guard !functions.isEmpty, functions.contains(where: { $0.command == nil }), let executable = lookup.executable(service.executable) else {
                continue
            }
            let log = "\(dataDirectory)/logs/\(arguments[0])-\(service.name).log"
            try? FileManager.default.removeItem(atPath: log)
            let process = try await spawner.spawn(
                [executable] + arguments,
                environment: WorkerLauncher.commandEnvironment(of: service, manifest: manifest, environment: environment, dataDirectory: dataDirectory)
                    .merging(extraEnvironment) { $1 },
                directory: lookup.manifestDirectory, logPath: log
            )
            let code = try await process.exit.get()
            let output = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let outcome = Outcome(service: service.name, exitCode: code, output: output)
            guard code == 0 else { throw Failed(command: arguments[0], outcome: outcome) }
            outcomes.append(outcome)
        }
        return outcomes
    }
}
