import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import Foundation
import Logging
import SQLKit

/// `GET /ws` `$connect`: the access token (`?token=`, as browsers cannot set headers on a WebSocket, or
/// `Authorization: Bearer`) is verified before the upgrade; a refused token never gets a connection.
struct Connect: WebSocketFunction {
    func handle(_ event: APIGatewayWebSocketRequest, context: FunctionContext) async throws -> APIGatewayWebSocketResponse {
        let header = event.headers?["authorization"] ?? event.queryStringParameters?["token"].map { "Bearer \($0)" }
        let caller = try await context.caller(authorization: header)
        let now = context.now.iso
        try await context.database.transaction { sql in
            try await sql.insert(into: "connections").columns("connection_id", "user_id", "connected_at", "last_seen_at")
                .values(SQLBind(event.requestContext.connectionId), SQLBind(caller.userId), SQLBind(now), SQLBind(now))
                .ignoringConflicts(with: ["connection_id"]).run()
        }
        return .init(statusCode: 200)
    }
}

/// `$disconnect`: the connection is forgotten.
struct Disconnect: WebSocketFunction {
    func handle(_ event: APIGatewayWebSocketRequest, context: FunctionContext) async throws -> APIGatewayWebSocketResponse {
        try await context.database.transaction { sql in
            try await sql.delete(from: "connections").where("connection_id", .equal, SQLBind(event.requestContext.connectionId)).run()
        }
        return .init(statusCode: 200)
    }
}

/// `$default`: what a client sends. `{"action":"ping"}` answers `{"type":"pong"}`; `{"action":"typing",
/// "conversationId":…}` is relayed as `typing` to the other participant's connections. Anything else
/// answers an `error` message; the connection stays open.
struct ClientMessage: WebSocketFunction {
    struct Message: Decodable {
        var action: String
        var conversationId: String?
    }

    struct Typing: Codable, Sendable {
        var conversationId: String
        var userId: String
    }

    func handle(_ event: APIGatewayWebSocketRequest, context: FunctionContext) async throws -> APIGatewayWebSocketResponse {
        let connectionId = event.requestContext.connectionId
        let database = try context.database
        struct Row: Decodable { var user_id: String }
        let now = context.now.iso
        let owner = try await database.withConnection { sql in
            try await sql.update("connections").set("last_seen_at", to: SQLBind(now)).where("connection_id", .equal, SQLBind(connectionId)).run()
            return try await sql.select().column("user_id").from("connections").where("connection_id", .equal, SQLBind(connectionId)).first(decoding: Row.self)
        }
        guard let userId = owner?.user_id else { return Self.reply(#"{"type":"error","message":"unknown connection"}"#) }
        guard let message = event.body.flatMap({ try? JSONDecoder().decode(Message.self, from: Data($0.utf8)) }) else {
            return Self.reply(#"{"type":"error","message":"send JSON with an action: ping or typing"}"#)
        }
        switch message.action {
        case "ping":
            return Self.reply(#"{"type":"pong"}"#)
        case "typing":
            guard let id = message.conversationId?.lowercased(),
                  let conversation = try await database.withConnection({ sql in try await ConversationRecord.find(id, on: sql) }),
                  conversation.includes(userId)
            else { return Self.reply(#"{"type":"error","message":"no such conversation"}"#) }
            await Push.send("typing", Typing(conversationId: id, userId: userId), to: conversation.other(than: userId), context: context)
            return .init(statusCode: 200)
        default:
            return Self.reply(#"{"type":"error","message":"unknown action"}"#)
        }
    }

    static func reply(_ body: String) -> APIGatewayWebSocketResponse {
        .init(statusCode: 200, body: body)
    }
}

/// Every 5 minutes: forgets connections silent for 2 hours (API Gateway's limit on a connection's life)
/// after closing them.
struct SweepConnections: ScheduleFunction {
    func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
        let cutoff = context.now.addingTimeInterval(-7_200).iso
        let database = try context.database
        struct Row: Decodable { var connection_id: String }
        let stale = try await database.withConnection { sql in
            try await sql.select().column("connection_id").from("connections").where("last_seen_at", .lessThan, SQLBind(cutoff)).all(decoding: Row.self)
        }
        for row in stale { try? await context.connections.close(row.connection_id) }
        if !stale.isEmpty {
            try await database.transaction { sql in
                try await sql.delete(from: "connections").where("connection_id", .in, SQLBind.group(stale.map(\.connection_id))).run()
            }
        }
    }
}
