#if canImport(Glibc)
import Glibc
#endif
import Blytz
import BlytzAWS
import Foundation
import Logging

/// The key under which a worker's database sits in its dependencies.
public enum DatabaseKey: DependencyKey {
    public typealias Value = ServiceDatabase
}

extension FunctionContext {
    /// The service's database.
    public var database: ServiceDatabase {
        get throws {
            guard let database = dependencies[DatabaseKey.self] else { throw DatabaseUnavailable() }
            return database
        }
    }
}

/// This worker was started without a database.
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public var description: String { "no database is configured for this worker" }
}

/// A command of a service executable beside serving a function (`users create-admin`, `seed`): it gets
/// the arguments after its name, the service's migrated database and the environment, and prints one JSON
/// line saying what it did.
public struct ServiceCommand: Sendable {
    public var name: String
    /// False for a command that only reads the executable itself (`describe`): it opens no database.
    public var needsDatabase: Bool
    public var run: @Sendable (_ arguments: [String], _ database: ServiceDatabase?, _ configuration: Configuration, _ logger: Logger) async throws -> String

    public init(_ name: String, needsDatabase: Bool = true, run: @escaping @Sendable ([String], ServiceDatabase?, Configuration, Logger) async throws -> String) {
        self.name = name
        self.needsDatabase = needsDatabase
        self.run = run
    }

    /// A command that works on the service's migrated database.
    public init(_ name: String, run: @escaping @Sendable ([String], ServiceDatabase, Configuration, Logger) async throws -> String) {
        self.init(name, needsDatabase: true) { arguments, database, configuration, logger in
            guard let database else { throw DatabaseUnavailable() }
            return try await run(arguments, database, configuration, logger)
        }
    }
}

/// The entry point of a service executable with a database: workers get a pooled connection to the
/// service's database in their dependencies, plus whatever `setup` adds; `<executable> migrate` applies
/// the service's migrations, and `<executable> <command> …` runs one of `commands`.
///
/// ```
/// // Sources/UsersWorker/main.swift
/// ServiceMain.main(functions: Users.functions, migrations: Users.migrations, setup: Users.setup, commands: Users.commands)
/// // (services declare themselves as a `BlytzService` and call `Users.main()`, which does this)
/// ```
public enum ServiceMain {
    /// Adds a service's own dependencies (keys, clients) to a worker's, beside its database.
    public typealias Setup = @Sendable (Configuration, Logger, inout Dependencies) async throws -> Void

    public static func main(
        functions: [String: any FunctionHandler], migrations: [Migration], setup: Setup? = nil, commands: [ServiceCommand] = []
    ) -> Never {
        FunctionRuntime.main(
            functions.merging([OutboxSweep.name: OutboxSweep() as any FunctionHandler]) { own, _ in own },
            dependencies: { configuration, logger in
                var dependencies = Dependencies()
                let database = try ServiceDatabase.open(try location(configuration), maxConnections: poolSize(configuration), logger: logger)
                dependencies[DatabaseKey.self] = database
                dependencies.onShutdown { await database.shutdown() }
                // Spans over OTLP/HTTP when the OTEL_* variables ask for them (the runner names the service).
                if let export = try TraceExport.configured(serviceName: configuration["BLYTZ_SERVICE"] ?? "service", environment: ProcessInfo.processInfo.environment, logger: logger) {
                    dependencies.tracer = export.tracer
                    dependencies.onShutdown(export.start())
                }
                // On AWS, pushes go to API Gateway's management API, signed.
                if let endpoint = configuration["BLYTZ_WEBSOCKET_ENDPOINT"], endpoint.contains(".execute-api."), let settings = AWSSettings({ configuration[$0] }) {
                    dependencies.connections = APIGatewayConnections(endpoint: endpoint, settings: settings)
                }
                // On AWS, committed events leave the outbox for SNS right after the invocation that published them.
                if let publisher = OutboxPublisher(configuration: configuration, database: database) {
                    dependencies[OutboxPublisherKey.self] = publisher
                    dependencies.afterPublishing {
                        do {
                            try await publisher.flush()
                        } catch {
                            logger.warning("handing the outbox to SNS failed; the sweep will", metadata: ["error": "\(error)"])
                        }
                    }
                }
                try await setup?(configuration, logger, &dependencies)
                return dependencies
            },
            command: { arguments in
                if arguments[0] == "migrate" { return await migrate(migrations) }
                if arguments[0] == "help" {
                    print("commands: " + (["migrate"] + commands.map(\.name)).joined(separator: ", "))
                    return 0
                }
                guard let command = commands.first(where: { $0.name == arguments[0] }) else {
                    if arguments[0] == "seed" { return await FunctionRuntime.defaultCommand(arguments) }
                    let known = (["migrate"] + commands.map(\.name)).joined(separator: ", ")
                    FunctionRuntime.printError("unknown command '\(arguments[0])' (this service has: \(known))")
                    return 64
                }
                return await run(command, arguments: Array(arguments.dropFirst()), migrations: migrations)
            }
        )
    }

    /// Runs `command` on the migrated database; prints its JSON line, or the error, and returns the exit status.
    static func run(_ command: ServiceCommand, arguments: [String], migrations: [Migration]) async -> Int32 {
        let configuration = Configuration(ProcessInfo.processInfo.environment)
        let logger = Logger(label: command.name) { JSONLogHandler(label: $0) }
        if !command.needsDatabase {
            do {
                print(try await command.run(arguments, nil, configuration, logger))
                return 0
            } catch {
                FunctionRuntime.printError("\(command.name) failed: \(error)")
                return 1
            }
        }
        do {
            let location = try location(configuration)
            try await ServiceDatabase.createIfMissing(location, logger: logger)
            // A command is a batch job (an import, a seed): its writes touch far more pages than a request's.
            let database = try ServiceDatabase.open(location, writerCacheKiB: 256 * 1024, logger: logger)
            do {
                _ = try await Migrator(service: configuration["BLYTZ_SERVICE"] ?? "service", migrations: migrations).migrate(database, logger: logger)
                print(try await command.run(arguments, database, configuration, logger))
                await database.shutdown()
                return 0
            } catch {
                await database.shutdown()
                throw error
            }
        } catch {
            FunctionRuntime.printError("\(command.name) failed: \(error)")
            return 1
        }
    }

    /// The database of the service this process belongs to, from the variables the runner sets.
    static func location(_ configuration: Configuration) throws -> DatabaseLocation {
        guard let service = configuration["BLYTZ_SERVICE"], let database = configuration["BLYTZ_DATABASE"] else {
            throw DatabaseLocation.Invalid(description: "BLYTZ_SERVICE and BLYTZ_DATABASE must be set")
        }
        return try DatabaseLocation.resolve(
            service: service, database: database, environment: configuration.values,
            dataDirectory: configuration.dataDirectory
        )
    }

    /// The connections a worker keeps to its database: `BLYTZ_DATABASE_POOL_SIZE` (1–64) if set; else one
    /// on AWS Lambda, where an execution environment serves one invocation at a time and a function's
    /// maximum concurrency times this is what PostgreSQL must accept; else four.
    static func poolSize(_ configuration: Configuration) -> Int {
        if let size = configuration["BLYTZ_DATABASE_POOL_SIZE"].flatMap(Int.init), (1...64).contains(size) { return size }
        return configuration["AWS_LAMBDA_INITIALIZATION_TYPE"] == nil ? 4 : 1
    }

    /// Applies `migrations`; prints `{"applied":[…],"history":[…]}` and returns the exit status.
    static func migrate(_ migrations: [Migration]) async -> Int32 {
        let configuration = Configuration(ProcessInfo.processInfo.environment)
        let logger = Logger(label: "migrate") { JSONLogHandler(label: $0) }
        let service = configuration["BLYTZ_SERVICE"] ?? "service"
        do {
            let location = try location(configuration)
            try await ServiceDatabase.createIfMissing(location, logger: logger)
            let database = try ServiceDatabase.open(location, logger: logger)
            do {
                let migrator = Migrator(service: service, migrations: migrations)
                let applied = try await migrator.migrate(database, logger: logger)
                let history = try await migrator.history(database).map(\.version)
                await database.shutdown()
                print(#"{"service":"\#(service)","applied":\#(applied),"history":\#(history)}"#)
                return 0
            } catch {
                await database.shutdown()
                throw error
            }
        } catch {
            logger.critical("migration failed", metadata: ["service": "\(service)", "error": "\(error)"])
            return 1
        }
    }
}
