// The pool locks internally but predates Sendable annotations.
@preconcurrency import AsyncKit
import Blytz
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import Tracing
import SQLiteKit

/// A service's database: pooled connections reused across invocations of a warm worker, one SQL code
/// path (SQLKit) for SQLite and PostgreSQL, and transactions.
///
/// ```
/// try await database.transaction { sql in
///     try await sql.insert(into: "jobs").columns("id", "title").values(SQLBind(id), SQLBind(title)).run()
/// }
/// ```
public final class ServiceDatabase: Sendable {
    public enum Engine: String, Sendable {
        case sqlite
        case postgres
    }

    /// The two kinds of pool behind the one interface.
    private enum Pool: Sendable {
        /// SQLite calls block a thread (a writer waiting for the lock sleeps in its busy handler), so the
        /// pools have threads of their own, one more than their connections: the lock holder always gets one.
        /// SQLite takes one writer at a time, so this process's transactions queue, in order, for the one
        /// writer connection instead of polling the file lock; readers use the others. Across processes
        /// (several workers of one service) the writer also holds `WriterLock` for its transaction.
        case sqlite(readers: EventLoopGroupConnectionPool<PragmaSQLiteSource>, writer: EventLoopGroupConnectionPool<PragmaSQLiteSource>, NIOThreadPool, WriterLock)
        case postgres(EventLoopGroupConnectionPool<PostgresConnectionSource>)
    }

    public let location: DatabaseLocation
    private let pool: Pool

    public var engine: Engine {
        if case .sqlite = pool { return .sqlite }
        return .postgres
    }

    private init(location: DatabaseLocation, pool: Pool) {
        self.location = location
        self.pool = pool
    }

    /// Opens a pool on `location`; SQLite files get WAL, a busy timeout and foreign keys. `writerCacheKiB`
    /// bounds the SQLite writer's page cache, for a batch job whose writes touch more than its default 2 MiB.
    public static func open(
        _ location: DatabaseLocation, maxConnections: Int = 4, writerCacheKiB: Int? = nil, logger: Logger,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(DatabaseError) -> ServiceDatabase {
        switch location {
        case .sqlite(let path):
            let threads = NIOThreadPool(numberOfThreads: maxConnections + 2)
            threads.start()
            let source = PragmaSQLiteSource(
                inner: SQLiteConnectionSource(configuration: .init(storage: .file(path: path), enableForeignKeys: true), threadPool: threads)
            )
            // One event loop each, so `maxConnections` is the whole reader pool. A transaction waits for the
            // writer as long as another process's writer may hold the file (the busy timeout) and then some.
            let loop = group.next()
            let readers = EventLoopGroupConnectionPool(source: source, maxConnectionsPerEventLoop: maxConnections, logger: logger, on: loop)
            var writerSource = source
            writerSource.cacheKiB = writerCacheKiB
            let writer = EventLoopGroupConnectionPool(
                source: writerSource, maxConnectionsPerEventLoop: 1, requestTimeout: .seconds(60), logger: logger, on: loop
            )
            let lock = try WriterLock(path: path + "-writer.lock", threads: threads)
            return ServiceDatabase(location: location, pool: .sqlite(readers: readers, writer: writer, threads, lock))
        case .postgres(let url):
            guard let configuration = try? SQLPostgresConfiguration(url: url) else { throw .badURL(location.description) }
            let source = PostgresConnectionSource(sqlConfiguration: configuration)
            return ServiceDatabase(
                location: location,
                // A burst waits (up to 30 s) for a pooled connection rather than failing.
                pool: .postgres(EventLoopGroupConnectionPool(
                    source: source, maxConnectionsPerEventLoop: maxConnections, requestTimeout: .seconds(30), logger: logger, on: group
                ))
            )
        }
    }

    /// Creates the PostgreSQL database of `location` when it does not exist yet (a SQLite file is created on open).
    public static func createIfMissing(_ location: DatabaseLocation, logger: Logger) async throws {
        guard case .postgres(let url) = location, var components = URLComponents(string: url) else { return }
        let name = String(components.path.dropFirst())
        guard !name.isEmpty, name != "postgres" else { return }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { throw DatabaseError.badURL(location.description) }
        components.path = "/postgres"
        let server = try open(.postgres(url: components.string ?? url), maxConnections: 1, logger: logger)
        do {
            try await server.withConnection { sql in
                struct Found: Decodable { var datname: String }
                @Sendable func exists() async throws -> Bool {
                    try await sql.select().column("datname").from("pg_database").where("datname", .equal, SQLBind(name)).first(decoding: Found.self) != nil
                }
                guard try await !exists() else { return }
                do {
                    try await sql.raw("CREATE DATABASE \(ident: name)").run()
                } catch {
                    // Another process starting at the same time may have created it first.
                    guard try await exists() else { throw error }
                }
            }
            await server.shutdown()
        } catch {
            await server.shutdown()
            throw error
        }
    }

    /// Runs `body` on one pooled connection. On PostgreSQL, a connection found lost before `body` sent
    /// anything (a pooled connection the server closed in a restart) is replaced and `body` run again.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await withConnection(writing: false, repeatable: { !$0.sent }, body)
    }

    /// How long one PostgreSQL statement may go unanswered before its connection is closed under it.
    public static let statementDeadline: TimeAmount = .seconds(30)
    /// The pauses between attempts of an operation whose connection was lost where repeating it is safe:
    /// about three seconds in all, enough to ride out a server restart.
    static let reconnectPauses: [Duration] = [.milliseconds(50), .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600)]

    private func withConnection<T: Sendable>(
        writing: Bool, repeatable: @escaping @Sendable (GuardedPostgres.Session) -> Bool, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        switch pool {
        case .sqlite(let readers, let writer, _, _):
            return try await (writing ? writer : readers).withConnection { connection in
                connection.eventLoop.makeFutureWithTask { try await body(connection.sql()) }
            }.get()
        case .postgres(let pool):
            var pauses = Self.reconnectPauses[...]
            while true {
                let session = GuardedPostgres.Session()
                do {
                    return try await pool.withConnection { connection in
                        connection.eventLoop.makeFutureWithTask {
                            try await body(GuardedPostgres(connection: connection, inner: connection.sql(), session: session, deadline: Self.statementDeadline))
                        }
                    }.get()
                } catch {
                    guard let lost = ConnectionLost(error) else { throw error }
                    guard repeatable(session), let pause = pauses.popFirst() else { throw lost }
                    try await Task.sleep(for: pause)
                }
            }
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// On SQLite the transaction takes the write lock at once (`BEGIN IMMEDIATE`), so concurrent writers wait
    /// (up to the busy timeout) instead of failing half-way. On PostgreSQL a transaction whose connection
    /// was lost before its `COMMIT` went out did not commit, and is run again (so `body` may run more than
    /// once) on a fresh connection; one lost after it throws `ConnectionLost`, its outcome unknown.
    /// In a traced invocation the transaction is a span of its own.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await Traces.span("transaction", kind: .client, attributes: ["db.system.name": engine == .postgres ? "postgresql" : "sqlite"]) { _ in
            try await untracedTransaction(body)
        }
    }

    private func untracedTransaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let begin = engine == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN"
        let lock: WriterLock? = if case .sqlite(_, _, _, let lock) = pool { lock } else { nil }
        return try await withConnection(writing: true, repeatable: { !$0.commitSent }) { sql in
            try await lock?.lock()
            defer { lock?.unlock() }
            try await sql.raw(SQLQueryString(begin)).run()
            do {
                let value = try await body(sql)
                try await sql.raw("COMMIT").run()
                return value
            } catch {
                // A lost connection has already rolled the transaction back on the server.
                if ConnectionLost(error) == nil { try? await sql.raw("ROLLBACK").run() }
                throw error
            }
        }
    }

    /// A transaction that also excludes every other transaction serialised by the same `name`, in any
    /// process: on PostgreSQL it first takes the transaction-scoped advisory lock of `name` (so replicas
    /// starting together can create the same tables), on SQLite `BEGIN IMMEDIATE` already excludes them.
    public func transaction<T: Sendable>(serialisedBy name: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let postgres = engine == .postgres
        return try await transaction { sql in
            if postgres {
                try await sql.raw("SELECT pg_advisory_xact_lock(\(literal: Int64(truncatingIfNeeded: name.hashValueStable)))").run()
            }
            return try await body(sql)
        }
    }

    /// Closes every connection; a database must be shut down before it is released.
    public func shutdown() async {
        switch pool {
        case .sqlite(let readers, let writer, let threads, let lock):
            try? await readers.shutdownAsync()
            try? await writer.shutdownAsync()
            lock.close()
            try? await threads.shutdownGracefully()
        case .postgres(let pool): try? await pool.shutdownAsync()
        }
    }
}

/// The writers of one SQLite file in several processes, queued by the kernel (`flock`): a waiting writer
/// wakes the moment the lock is free, where SQLite's own busy handler sleeps 1, 2, 5, 10… ms between
/// tries. Held by this process's one writer connection for the span of its transaction.
final class WriterLock: Sendable {
    private let descriptor: Int32
    private let threads: NIOThreadPool

    init(path: String, threads: NIOThreadPool) throws(DatabaseError) {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .badURL(path) }
        self.threads = threads
    }

    /// Waits (on a thread of the pool, not the event loop) until no other process holds the lock.
    func lock() async throws {
        let descriptor = descriptor
        try await threads.runIfActive { _ = flock(descriptor, LOCK_EX) }
    }

    func unlock() { _ = flock(descriptor, LOCK_UN) }

    func close() { _ = Foundation.close(descriptor) }
}

/// Errors of the data layer.
public enum DatabaseError: Error, Sendable, Equatable, CustomStringConvertible {
    case badURL(String)
    /// The database's migration history is not a prefix of the service's migrations.
    case divergentHistory(service: String, detail: String)

    public var description: String {
        switch self {
        case .badURL(let url): "cannot use database URL \(url)"
        case .divergentHistory(let service, let detail): "the \(service) database's migration history diverges from the code: \(detail)"
        }
    }
}

/// Opens SQLite connections with the settings every service database uses.
struct PragmaSQLiteSource: ConnectionPoolSource {
    let inner: SQLiteConnectionSource
    /// The page cache's bound, when not SQLite's default of 2 MiB.
    var cacheKiB: Int? = nil

    func makeConnection(logger: Logger, on eventLoop: any EventLoop) -> EventLoopFuture<SQLiteConnection> {
        inner.makeConnection(logger: logger, on: eventLoop).flatMap { connection in
            connection.query("PRAGMA journal_mode=WAL")
                .flatMap { _ in connection.query("PRAGMA busy_timeout=15000") }
                .flatMap { _ in connection.query("PRAGMA synchronous=NORMAL") }
                // Statement journals (a statement that may fail half-way) in memory, not in a temporary file.
                .flatMap { _ in connection.query("PRAGMA temp_store=MEMORY") }
                .flatMap { _ in cacheKiB.map { connection.query("PRAGMA cache_size=-\($0)").map { _ in () } } ?? connection.eventLoop.makeSucceededVoidFuture() }
                .map { _ in connection }
        }
    }
}

extension ServiceDatabase {
    /// Whether `error` is a unique-constraint violation (a concurrent insert won), on either engine.
    public static func isUniqueViolation(_ error: any Error) -> Bool {
        if let error = error as? PSQLError { return error.serverInfo?[.sqlState] == "23505" }
        return String(describing: error).contains("UNIQUE constraint failed")
    }
}
