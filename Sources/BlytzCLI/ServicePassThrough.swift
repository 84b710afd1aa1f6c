import ArgumentParser
import BlytzEvents
import BlytzManifest
import BlytzRunner
import Foundation

/// `blytz <service> <command> …`: runs a command of a service's executable (`blytz users create-admin
/// --email …`, `blytz communication mail`), with the service's environment, standard input and output.
/// The CLI knows no service by name: what a service can do is its own executable's business.
struct ServicePassThrough: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "Run a command of a service's executable: blytz <service> <command> … (blytz <service> help lists them)."
    )

    @Argument(help: "The service, as functions.yaml names it.")
    var service: String

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments; --manifest, --bin-dir and --data-dir anywhere among them are blytz's.")
    var arguments: [String] = []

    /// The command line with `service` inserted before a first word that is not one of blytz's commands,
    /// so `blytz users rotate-key` reads as `blytz service users rotate-key`.
    static func arguments(_ given: ArraySlice<String>) -> [String] {
        let commands = Set(BlytzCommand.configuration.subcommands.map { $0._commandName } + ["help"])
        guard let first = given.first, !first.hasPrefix("-"), !commands.contains(first) else { return Array(given) }
        return ["service"] + given
    }

    /// blytz's own options (`--manifest`, `--bin-dir`, `--data-dir`), wherever they stand, and the rest for the service.
    func split() throws -> (manifest: ManifestOptions, data: DataDirectoryOption, command: [String]) {
        var manifest: [String] = []
        var data: [String] = []
        var command: [String] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if index + 1 < arguments.endIndex, ["--manifest", "--bin-dir", "--data-dir"].contains(argument) {
                if argument == "--data-dir" { data += [argument, arguments[index + 1]] } else { manifest += [argument, arguments[index + 1]] }
                index += 2
            } else {
                command.append(argument)
                index += 1
            }
        }
        return (try ManifestOptions.parse(manifest), try DataDirectoryOption.parse(data), command)
    }

    func run() async throws {
        let (manifestOptions, data, arguments) = try split()
        guard let lookup = manifestOptions.lookup() else { return }
        let manifest: Manifest
        do {
            manifest = try Manifest.load(path: manifestOptions.manifest, executables: lookup)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        guard let spec = manifest.service(named: service), let executable = lookup.executable(spec.executable) else {
            throw ValidationError("no service named '\(service)' in \(manifestOptions.manifest) (services: \(manifest.services.map(\.name).joined(separator: ", ")))")
        }
        guard !arguments.isEmpty else { throw ValidationError("name a command of the \(service) service") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: lookup.manifestDirectory)
        process.environment = ServiceCommands.environment(of: spec, manifest: manifest, environment: ProcessInfo.processInfo.environment, dataDirectory: data.path)
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 { throw ExitCode(process.terminationStatus) }
    }
}
