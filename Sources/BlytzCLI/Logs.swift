import ArgumentParser
import BlytzRunner
import Foundation

/// `blytz logs`: the JSON lines every process of a local backend writes under `<data-dir>/logs` — the
/// runner's own (`runner.log`), one per invocation (`invocations.log`), each function's workers
/// (`<function>.log`) and each service command (`<command>-<service>.log`) — merged in time order, as one
/// JSON line each, filtered by function, service, request or trace. A line that is not a log line (a
/// stray print) is shown as a message of its file's function, with the time and service of the line
/// before it.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the logs of every function and of the runner, in time order.")

    @OptionGroup var data: DataDirectoryOption

    @Option(help: "Only the lines of this function.")
    var function: String?

    @Option(help: "Only the lines of this service.")
    var service: String?

    @Option(help: "Only the lines of this trace (its 32 hex digits, or a whole traceparent).")
    var trace: String?

    @Option(help: "Only the lines of this request id.")
    var request: String?

    @Flag(help: "Keep printing lines as they are written, until interrupted.")
    var follow = false

    func run() async throws {
        let directory = data.path + "/logs"
        guard FileManager.default.fileExists(atPath: directory) else {
            throw ValidationError("no logs in \(directory): start the backend (./local/run) or pass --data-dir")
        }
        let filter = LogFilter(function: function, service: service, trace: trace, requestId: request)
        let reader = LogReader(directory: directory)
        repeat {
            let ordered = reader.read(filter)
            if !ordered.isEmpty { FileHandle.standardOutput.write(Data((ordered.joined(separator: "\n") + "\n").utf8)) }
            if follow { try await Task.sleep(for: .milliseconds(250)) }
        } while follow
    }
}

