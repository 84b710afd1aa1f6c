import BlytzData
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import ServiceLifecycle

/// Where the WebSocket connections of replicas sharing a PostgreSQL event queue are held, kept in that
/// queue's database so that a push reaches a connection whichever replica holds it:
/// - each replica records its connections (`_blytz_connections`) and beats every two seconds
///   (`_blytz_replicas`);
/// - a push to a connection another replica holds is stored for that replica (`_blytz_pushes`) and
///   announced on `NOTIFY blytz_connections` with the replica's id; the holder takes its pushes and writes
///   them to the socket (and sweeps them every second, should a notification be missed);
/// - a replica not seen for ten seconds is dead: a live replica of the same service removes its
///   connections and runs each one's `$disconnect`, once (the removal is the claim).
final class ConnectionRegistry: Sendable {
    /// One connection as the registry knows it.
    struct Located: Decodable, Sendable {
        var id: String
        var service: String
        var replica: String
        var connected_at: Int64
        var source_ip: String
    }

    /// What a push asks of the connection's holder.
    enum Kind: String, Codable, Sendable {
        case text, binary, close
    }

    /// A push waiting for the replica that holds its connection.
    struct Push: Decodable, Sendable {
        var seq: Int
        var connection: String
        var kind: Kind
        /// The text, or base64 of the bytes of a binary message.
        var body: String
    }

    static let channel = "blytz_connections"
    static let heartbeat: Duration = .seconds(2)
    /// A replica not seen for this long (milliseconds) is taken for dead.
    static let deadAfter: Int64 = 10_000

    let database: ServiceDatabase
    /// The services whose connections this replica holds and whose dead replicas it sweeps.
    let services: [String]
    /// This replica's id, fresh at every start.
    let replica = UUID().uuidString.lowercased()
    let logger: Logger

    init(database: ServiceDatabase, services: [String], logger: Logger) {
        self.database = database
        self.services = services
        self.logger = logger
    }

    /// Creates the tables when missing.
    func prepare() async throws {
        try await database.transaction(serialisedBy: "_blytz_connections") { sql in
            try await sql.create(table: "_blytz_replicas").ifNotExists()
                .column("id", type: .text, .notNull).column("service", type: .text, .notNull).column("seen_at", type: .bigint, .notNull)
                .primaryKey("id", "service").run()
            try await sql.create(table: "_blytz_connections").ifNotExists()
                .column("id", type: .text, .primaryKey(autoIncrement: false)).column("service", type: .text, .notNull)
                .column("replica", type: .text, .notNull).column("connected_at", type: .bigint, .notNull).column("source_ip", type: .text, .notNull)
                .run()
            try await sql.create(table: "_blytz_pushes").ifNotExists()
                .column("seq", type: .bigint, .primaryKey(autoIncrement: true)).column("replica", type: .text, .notNull)
                .column("connection", type: .text, .notNull).column("kind", type: .text, .notNull).column("body", type: .text, .notNull)
                .run()
            try await sql.raw("CREATE INDEX IF NOT EXISTS _blytz_pushes_replica ON _blytz_pushes (replica)").run()
        }
    }

    /// Records that this replica is alive.
    func beat() async throws {
        let now = wallClockMilliseconds()
        try await database.transaction { [replica, services] sql in
            for service in services {
                try await sql.raw("""
                    INSERT INTO _blytz_replicas (id, service, seen_at) VALUES (\(bind: replica), \(bind: service), \(bind: now))
                    ON CONFLICT (id, service) DO UPDATE SET seen_at = EXCLUDED.seen_at
                    """).run()
            }
        }
    }

    /// Removes this replica (at shutdown, once its connections are closed).
    func leave() async {
        try? await database.transaction { [replica] sql in
            try await sql.delete(from: "_blytz_replicas").where("id", .equal, SQLBind(replica)).run()
            try await sql.delete(from: "_blytz_pushes").where("replica", .equal, SQLBind(replica)).run()
        }
    }

    func register(_ id: String, service: String, connectedAt: Int64, sourceIP: String) async {
        do {
            try await database.transaction { [replica] sql in
                try await sql.insert(into: "_blytz_connections").columns("id", "service", "replica", "connected_at", "source_ip")
                    .values(SQLBind(id), SQLBind(service), SQLBind(replica), SQLBind(connectedAt), SQLBind(sourceIP)).run()
            }
        } catch {
            logger.warning("connection not registered; pushes from other replicas will not reach it", metadata: ["connection": "\(id)", "error": "\(error)"])
        }
    }

    func unregister(_ id: String) async {
        try? await database.transaction { sql in
            try await sql.delete(from: "_blytz_connections").where("id", .equal, SQLBind(id)).run()
        }
    }

    /// The connection `id`, wherever it is held.
    func locate(_ id: String) async throws -> Located? {
        try await database.withConnection { sql in
            try await sql.select().columns("id", "service", "replica", "connected_at", "source_ip").from("_blytz_connections")
                .where("id", .equal, SQLBind(id)).first(decoding: Located.self)
        }
    }

    /// Leaves a push for the replica holding `connection` and tells it so.
    func send(_ kind: Kind, body: String, to connection: Located) async throws {
        try await database.transaction { sql in
            try await sql.insert(into: "_blytz_pushes").columns("replica", "connection", "kind", "body")
                .values(SQLBind(connection.replica), SQLBind(connection.id), SQLBind(kind.rawValue), SQLBind(body)).run()
            try await sql.raw("SELECT pg_notify(\(bind: Self.channel), \(bind: connection.replica))").run()
        }
    }

    /// Takes the pushes left for this replica, oldest first.
    func takePushes() async throws -> [Push] {
        try await database.transaction { [replica] sql in
            try await sql.raw("DELETE FROM _blytz_pushes WHERE replica = \(bind: replica) RETURNING seq, connection, kind, body")
                .all(decoding: Push.self).sorted { $0.seq < $1.seq }
        }
    }

    /// Claims the connections of dead replicas of this replica's services: removes replicas not seen for
    /// `deadAfter`, then every connection of these services whose replica is gone, and the pushes left for
    /// them. Another replica sweeping at the same time gets none of the same connections.
    func claimOrphans() async throws -> [Located] {
        let cutoff = wallClockMilliseconds() - Self.deadAfter
        return try await database.transaction { [services] sql in
            struct Gone: Decodable { var id: String }
            let gone = try await sql.raw("""
                DELETE FROM _blytz_replicas WHERE seen_at < \(bind: cutoff) AND service IN (\(binds: services)) RETURNING id
                """).all(decoding: Gone.self)
            // A connection younger than `deadAfter` may belong to a replica that has not beaten yet.
            let orphans = try await sql.raw("""
                DELETE FROM _blytz_connections c WHERE c.service IN (\(binds: services)) AND c.connected_at < \(bind: cutoff)
                AND NOT EXISTS (SELECT 1 FROM _blytz_replicas r WHERE r.id = c.replica)
                RETURNING id, service, replica, connected_at, source_ip
                """).all(decoding: Located.self)
            let replicas = Set(gone.map(\.id)).union(orphans.map(\.replica))
            if !replicas.isEmpty {
                try await sql.delete(from: "_blytz_pushes").where("replica", .in, SQLBind.group(Array(replicas))).run()
            }
            return orphans
        }
    }
}

/// Keeps a replica's part of the registry: beats, delivers the pushes other replicas leave for its
/// connections, and runs `$disconnect` for the connections of dead replicas of its services.
struct ConnectionService: Service {
    let registry: ConnectionRegistry
    let hub: WebSocketHub

    func run() async throws {
        try await registry.prepare()
        try await registry.beat()
        let logger = registry.logger
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                let wakeup = Wakeup()
                group.addTask {
                    await PostgresNotifications.listen(to: registry.database.location, channel: ConnectionRegistry.channel, logger: logger) { payload in
                        if payload == registry.replica { wakeup.signal() }
                    }
                }
                group.addTask {
                    let loop = MultiThreadedEventLoopGroup.singleton.next()
                    while !Task.isCancelled {
                        do {
                            for push in try await registry.takePushes() { await hub.deliver(push) }
                        } catch {
                            logger.warning("taking WebSocket pushes failed", metadata: ["error": "\(error)"])
                        }
                        await wakeup.wait(timeout: .seconds(1), on: loop)
                    }
                }
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            try await registry.beat()
                            for orphan in try await registry.claimOrphans() { await hub.disconnected(orphan) }
                        } catch {
                            logger.warning("WebSocket registry heartbeat failed", metadata: ["error": "\(error)"])
                        }
                        try? await Task.sleep(for: ConnectionRegistry.heartbeat)
                    }
                }
            }
        }
        await registry.leave()
    }
}
