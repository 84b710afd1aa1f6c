import Blytz
import BlytzData
import BlytzEvents
import Foundation
import Logging

/// One service of the backend, declared once: its name, its functions by their `functions.yaml` keys, its
/// schema, what its workers set up beside the database, and its commands. Its executable is one line:
///
/// ```
/// // Sources/UsersWorker/main.swift
/// Users.main()
/// ```
/// `<executable> describe` prints the declaration as JSON; `blytz validate` checks the manifest against it.
public protocol BlytzService {
    static var name: ServiceName { get }
    static var functions: [String: any FunctionHandler] { get }
    static var migrations: [Migration] { get }
    /// Adds the service's own parts (keys, clients) to a worker's dependencies, beside its database.
    static func setup(_ configuration: Configuration, _ logger: Logger, _ dependencies: inout Dependencies) async throws
    /// Commands beside `migrate`, `describe`, `stuck` and `retry-stuck` (`blytz <service> <command> …`).
    static var commands: [ServiceCommand] { get }
}

extension BlytzService {
    public static var migrations: [Migration] { [] }
    public static var commands: [ServiceCommand] { [] }

    public static func setup(_ configuration: Configuration, _ logger: Logger, _ dependencies: inout Dependencies) async throws {
        try await ServiceParts.setup(configuration, logger, &dependencies)
    }

    /// The executable's entry point: serves the function `_HANDLER` names, or runs a command.
    public static func main() -> Never {
        ServiceMain.main(
            functions: functions, migrations: migrations, setup: { try await setup($0, $1, &$2) },
            commands: commands + [
                ServiceCommand("describe", needsDatabase: false) { _, _, _, _ in describe() },
                // Work between services that failed every attempt (see `Reconciler`), and putting it back.
                ServiceCommand("stuck") { _, database, _, _ in jsonText(try await Reconciler.stuck(in: database)) },
                ServiceCommand("retry-stuck") { _, database, _, _ in jsonText(["retried": try await Reconciler.retryStuck(in: database, now: Date())]) },
            ]
        )
    }

    /// `{"service":…,"functions":[{"name","handler","kind","events"?,"http"?}],"schemas":{…}}`, sorted by name.
    public static func describe() -> String {
        jsonText(ServiceDescription(service: name.rawValue, functions: functions))
    }
}

