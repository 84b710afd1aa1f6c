import ArgumentParser
import Blytz
import BlytzData
import BlytzManifest
import BlytzRunner
import Foundation
import Logging

/// `blytz import --from postgres://…`: copies the monolith's data into every service's database. The CLI
/// knows no service by name and no table: it holds one repeatable-read snapshot of the monolith open,
/// exports it, and runs each service's own `import` command with that snapshot, all at once, so every
/// service reads the same instant while each writes its own database through its own code.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import the monolith's database into each service's database (or the named ones).",
        discussion: """
            Safe to run again: rows are written under deterministic ids and skipped when unchanged since the last run, so a second run \
            writes nothing, a killed run resumes, and a later run brings only what changed (rows deleted in the monolith are reported). \
            The monolith is only read. --dry-run writes everything and rolls it back; --verify writes nothing and compares both sides.
            """
    )

    @Option(help: "The monolith's PostgreSQL URL.")
    var from: String

    @Option(help: "The monolith's schema.")
    var schema = "blytz_hire"

    @Flag(name: .customLong("dry-run"), help: "Map and write everything, then roll it back.")
    var dryRun = false

    @Flag(help: "Write nothing: re-read both sides and fail on any difference.")
    var verify = false

    @Option(name: .long, parsing: .upToNextOption, help: "Only these services.")
    var only: [String] = []

    @Flag(help: "Print each service's report as a JSON line instead of the table.")
    var json = false

    @OptionGroup var manifestOptions: ManifestOptions

    @OptionGroup var data: DataDirectoryOption

    func run() async throws {
        guard let lookup = manifestOptions.lookup() else { return }
        let manifest: Manifest
        do {
            manifest = try Manifest.load(path: manifestOptions.manifest, executables: lookup)
        } catch {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(1)
        }
        for name in only where manifest.service(named: name) == nil {
            throw ValidationError("no service named '\(name)' in \(manifestOptions.manifest)")
        }
        let services = manifest.services.filter { only.isEmpty || only.contains($0.name) }
        let arguments = ["--from", from, "--schema", schema] + (dryRun ? ["--dry-run"] : []) + (verify ? ["--verify"] : [])
        let environment = ProcessInfo.processInfo.environment
        let dataDirectory = data.path
        let outcomes: [(service: String, report: LegacyImport.Report?, failure: String?)]
        do {
            // Services import side by side: each reads the same snapshot and writes only its own database.
            outcomes = try await LegacyImport.withExportedSnapshot(from: from, logger: Logger(label: "import")) { snapshot in
                try await withThrowingTaskGroup(of: (Int, String, LegacyImport.Report?, String?).self) { group in
                    for (index, service) in services.enumerated() {
                        guard let executable = lookup.executable(service.executable) else { continue }
                        group.addTask {
                            let outcome = try await Self.runImport(
                                executable: executable, arguments: arguments + ["--snapshot", snapshot], service: service, manifest: manifest,
                                environment: environment, dataDirectory: dataDirectory, directory: lookup.manifestDirectory
                            )
                            return (index, service.name, outcome.report, outcome.failure)
                        }
                    }
                    var outcomes: [(Int, String, LegacyImport.Report?, String?)] = []
                    for try await outcome in group { outcomes.append(outcome) }
                    return outcomes.sorted { $0.0 < $1.0 }.map { ($0.1, $0.2, $0.3) }
                }
            }
        } catch {
            FileHandle.standardError.write(Data("import: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var failed = false
        for outcome in outcomes {
            if let failure = outcome.failure {
                failed = true
                FileHandle.standardError.write(Data("\(outcome.service): \(failure)\n".utf8))
            }
            guard let report = outcome.report else { continue }
            if json {
                print(jsonText(report))
            } else {
                print(Self.table(report))
            }
            if verify, report.tables.contains(where: { !($0.differences ?? []).isEmpty }) { failed = true }
        }
        if failed { throw ExitCode(1) }
    }

    /// Runs one service's `import`: progress goes to this terminal, the report line is read back.
    static func runImport(
        executable: String, arguments: [String], service: ServiceSpec, manifest: Manifest, environment: [String: String], dataDirectory: String, directory: String
    ) async throws -> (report: LegacyImport.Report?, failure: String?) {
        let environment = ServiceCommands.environment(of: service, manifest: manifest, environment: environment, dataDirectory: dataDirectory)
        // A service with nothing to import has no `import` command.
        let commands = try await run(executable, ["help"], environment: environment, directory: directory, showingErrors: false)
        guard commands.text.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).contains("import") else { return (nil, nil) }
        let (status, text) = try await run(executable, ["import"] + arguments, environment: environment, directory: directory, showingErrors: true)
        guard status == 0 else { return (nil, "import exited with status \(status)") }
        let line = text.split(separator: "\n").last.map(String.init) ?? ""
        guard let report = try? JSONDecoder().decode(LegacyImport.Report.self, from: Data(line.utf8)) else { return (nil, "import printed no report: \(text)") }
        return (report, nil)
    }

    /// Runs `executable arguments…` to its end: its exit status and standard output; its standard error
    /// (an import's progress and failures) goes to this terminal when `showingErrors`.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String], directory: String, showingErrors: Bool) async throws -> (status: Int32, text: String) {
        let output = NSTemporaryDirectory() + "blytz-import-\(UUID().uuidString).out"
        FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = environment
        process.standardOutput = FileHandle(forWritingAtPath: output)
        if !showingErrors { process.standardError = FileHandle.nullDevice }
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        return (process.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    /// A service's report as an aligned table, one line per table.
    static func table(_ report: LegacyImport.Report) -> String {
        let header = ["\(report.service) (\(report.mode), \(report.seconds) s)", "READ", "WRITTEN", "SAME", "SKIPPED", "GONE", "ROUNDED", "CENTS READ", "CENTS WRITTEN"]
        var rows = [header]
        var notes: [String] = []
        for table in report.tables {
            let skipped = table.skipped.values.reduce(0, +)
            rows.append([
                "  \(table.source) → \(table.target)", "\(table.read)", "\(table.written)", "\(table.unchanged)", "\(skipped)", "\(table.deletedInSource)",
                "\(table.rounded)", table.centsRead.map { String(format: "%.2f", $0) } ?? "-", table.centsWritten.map(String.init) ?? "-",
            ])
            for (reason, count) in table.skipped.sorted(by: { $0.key < $1.key }) { notes.append("  \(table.source): skipped \(count): \(reason)") }
            for (what, count) in table.flagged.sorted(by: { $0.key < $1.key }) { notes.append("  \(table.source): flagged \(count): \(what)") }
            for (rule, count) in table.mapped.sorted(by: { $0.key < $1.key }) { notes.append("  \(table.source): mapped \(count): \(rule)") }
            for difference in table.differences ?? [] { notes.append("  \(table.source): differs: \(difference)") }
        }
        if report.mode == "import" {
            let written = report.tables.map(\.written).reduce(0, +)
            notes.append(written == 0 ? "  nothing changed since the last run" : "  \(written) rows written")
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        let lines = rows.map { row in
            row.enumerated().map { column, cell in column == 0 ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0) : String(repeating: " ", count: widths[column] - cell.count) + cell }
                .joined(separator: "  ")
        }
        return (lines + notes).joined(separator: "\n")
    }
}
