import Blytz
import HTTPTypes
import Logging
import NIOCore
import PostgresKit
import SQLKit
import Synchronization

/// A pooled PostgreSQL connection as `ServiceDatabase` hands it to a body: each statement starts on the
/// connection's event loop only while the connection is open, and is bounded by a deadline.
///
/// postgres-nio (1.33) hands a statement to its channel without a promise. On a connection the server has
/// already closed — a restart's `FATAL 57P01`, `pg_terminate_backend`, a killed backend — the channel has
/// dropped its handlers, the write fails unseen, and the statement never completes: a `COMMIT` or
/// `ROLLBACK` waits forever and its pooled connection with it. On the event loop, where the channel changes
/// state, an open connection still has the handler that answers every statement, even with an error; a
/// closed one is refused here at once. The deadline covers a server that stops answering: the connection
/// is closed under the statement, which fails it.
struct GuardedPostgres: SQLDatabase {
    let connection: PostgresConnection
    let inner: any SQLDatabase
    let session: Session
    let deadline: TimeAmount

    /// What has gone over one connection during one use of it, which decides whether the use may be repeated.
    final class Session: Sendable {
        private let state = Mutex<(sent: Bool, commitSent: Bool)>((false, false))

        func record(_ sql: String) {
            let commit = sql.uppercased().hasPrefix("COMMIT")
            state.withLock { state in
                state.sent = true
                if commit { state.commitSent = true }
            }
        }

        /// Whether any statement reached the connection.
        var sent: Bool { state.withLock { $0.sent } }
        /// Whether a `COMMIT` was handed over, after which a lost connection leaves the outcome unknown.
        var commitSent: Bool { state.withLock { $0.commitSent } }
    }

    var logger: Logger { inner.logger }
    var eventLoop: any EventLoop { connection.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { inner.version }
    var dialect: any SQLDialect { inner.dialect }
    var queryLogLevel: Logger.Level? { inner.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        let (connection, inner, session, deadline) = (connection, inner, session, deadline)
        let (sql, binds) = inner.serialize(query)
        return connection.eventLoop.flatSubmit {
            guard !connection.isClosed else {
                return connection.eventLoop.makeFailedFuture(ConnectionLost(detail: "the server closed the connection"))
            }
            // Only a raw statement can be a `COMMIT`; a builder's query is never one.
            session.record(query is SQLQueryString ? sql : "")
            let result = Self.run(query, sql: sql, binds: binds, on: connection, inner: inner, onRow)
            let timer = connection.eventLoop.scheduleTask(in: deadline) { _ = connection.close() as EventLoopFuture<Void> }
            result.whenComplete { _ in timer.cancel() }
            return result.flatMapErrorThrowing { error in throw ConnectionLost(error) ?? error }
        }
    }

    /// Runs `query` (serialized as `sql` and `binds`) with postgres-nio's own coding of the binds and rows
    /// when every bind is a value it encodes itself (`PostgresRows`), else through postgres-kit.
    private static func run(_ query: any SQLExpression, sql: String, binds: [any Encodable & Sendable], on connection: PostgresConnection,
                            inner: any SQLDatabase, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        guard let bindings = try? PostgresRows.bindings(binds) else { return inner.execute(sql: query, onRow) }
        if let level = inner.queryLogLevel {
            inner.logger.log(level: level, "Executing query", metadata: ["sql": .string(sql), "binds": .array(binds.map { .string("\($0)") })])
        }
        return connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: inner.logger) { onRow(PostgresSQLRow($0)) }.map { _ in }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await execute(sql: query, onRow).get()
    }

    func withSession<R>(_ closure: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await closure(self)
    }
}

/// The database connection was lost (closed by the server, killed, unreachable, or refused): the
/// operation failed without an answer. Answered 503, as the database will likely be back shortly.
public struct ConnectionLost: Error, HTTPResponseError, CustomStringConvertible {
    public var detail: String

    public init(detail: String) {
        self.detail = detail
    }

    /// `error` as a lost connection, or nil when it is anything else (a constraint, a syntax error).
    init?(_ error: any Error) {
        switch error {
        case let lost as ConnectionLost:
            self = lost
        case let error as PSQLError:
            switch error.code {
            case .serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown, .messageDecodingFailure, .unexpectedBackendMessage:
                self.init(detail: "the connection failed (\(error.code))")
            case .server where error.serverInfo?[.sqlState]?.hasPrefix("57P") == true || error.serverInfo?[.sqlState]?.hasPrefix("08") == true:
                // 57P01–57P03: the server is shutting down or starting; 08xxx: connection exceptions.
                self.init(detail: "the server ended the session (\(error.serverInfo?[.sqlState] ?? ""))")
            default:
                return nil
            }
        case is IOError, is ChannelError, is NIOConnectionError:
            self.init(detail: "the database could not be reached (\(error))")
        default:
            return nil
        }
    }

    public var description: String { "database connection lost: \(detail)" }

    public var problem: Problem {
        Problem(status: 503, detail: "The database is unavailable right now; try again shortly.")
    }

    public var headers: HTTPFields { [.retryAfter: "1"] }
}
