import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import Foundation
import Logging
import SQLKit

/// Live pushes to every open WebSocket connection of a user (several tabs, several devices). A connection
/// the runner says is gone is forgotten on the spot.
enum Push {
    /// One server → client message: `{"type": "message.new", "data": …}`.
    struct Envelope<Payload: Encodable & Sendable>: Encodable, Sendable {
        var type: String
        var data: Payload
    }

    /// Sends `type`/`data` to each of `userId`'s connections; returns how many got it.
    @discardableResult
    static func send<Payload: Encodable & Sendable>(_ type: String, _ data: Payload, to userId: String, context: FunctionContext) async -> Int {
        do {
            let database = try context.database
            let connections = try await database.withConnection { sql in
                try await sql.select().column("connection_id").from("connections").where("user_id", .equal, SQLBind(userId)).all(decoding: ConnectionRow.self)
            }
            guard !connections.isEmpty else { return 0 }
            let body = try JSON.encoder().encode(Envelope(type: type, data: data))
            var delivered = 0
            var gone: [String] = []
            for connection in connections {
                do {
                    try await context.connections.post(body, to: connection.connection_id)
                    delivered += 1
                } catch is ConnectionGone {
                    gone.append(connection.connection_id)
                } catch {
                    context.logger.warning("push failed", metadata: ["ws.connection": "\(connection.connection_id)", "error": "\(error)"])
                }
            }
            if !gone.isEmpty {
                let gone = gone
                try await database.transaction { sql in
                    try await sql.delete(from: "connections").where("connection_id", .in, SQLBind.group(gone)).run()
                }
            }
            return delivered
        } catch {
            context.logger.warning("push skipped", metadata: ["user.id": "\(userId)", "error": "\(error)"])
            return 0
        }
    }
}

/// A connection id, as `connections` rows are read.
struct ConnectionRow: Decodable {
    var connection_id: String
}
