#if canImport(Glibc)
import Glibc
#endif
import Blytz
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

/// The entry point of a service executable with a database: workers get a pooled connection to the
/// service's database in their dependencies; `<executable> migrate` applies the service's migrations.
///
/// ```
/// // Sources/UsersWorker/main.swift
/// ServiceMain.main(functions: Users.functions, migrations: Users.migrations)
/// ```
public enum ServiceMain {
    public static func main(functions: [String: any FunctionHandler], migrations: [Migration]) -> Never {
        FunctionRuntime.main(
            functions,
            dependencies: { configuration, logger in
                var dependencies = Dependencies()
                dependencies[DatabaseKey.self] = try ServiceDatabase.open(try location(configuration), logger: logger)
                return dependencies
            },
            migrate: { await migrate(migrations) }
        )
    }

    /// The database of the service this process belongs to, from the variables the runner sets.
    static func location(_ configuration: Configuration) throws -> DatabaseLocation {
        guard let service = configuration["BLYTZ_SERVICE"], let database = configuration["BLYTZ_DATABASE"] else {
            throw DatabaseLocation.Invalid(description: "BLYTZ_SERVICE and BLYTZ_DATABASE must be set")
        }
        return try DatabaseLocation.resolve(
            service: service, database: database, environment: configuration.values,
            dataDirectory: configuration["BLYTZ_DATA_DIR"] ?? "local/.data"
        )
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
