import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// A row of `conversations`: a direct conversation between two users, stored with the ids in order so
/// each pair has one.
struct ConversationRecord: Codable, Sendable {
    var id: String
    var userA: String
    var userB: String
    var createdAt: String
    var lastMessageAt: String
    var lastMessagePreview: String?

    static func find(_ id: String, on sql: any SQLDatabase) async throws -> ConversationRecord? {
        try await sql.select().column("*").from("conversations").where("id", .equal, SQLBind(id))
            .first(decoding: ConversationRecord.self, keyDecodingStrategy: .snakeCase)
    }

    static func find(between one: String, and other: String, on sql: any SQLDatabase) async throws -> ConversationRecord? {
        let (a, b) = one < other ? (one, other) : (other, one)
        return try await sql.select().column("*").from("conversations").where("user_a", .equal, SQLBind(a)).where("user_b", .equal, SQLBind(b))
            .first(decoding: ConversationRecord.self, keyDecodingStrategy: .snakeCase)
    }

    func includes(_ userId: String) -> Bool { userA == userId || userB == userId }
    func other(than userId: String) -> String { userA == userId ? userB : userA }

    /// The conversation of `id` if `userId` takes part in it; a 404 otherwise (its existence is private).
    static func participating(_ id: String, userId: String, on sql: any SQLDatabase) async throws -> ConversationRecord {
        guard id.isUUID, let conversation = try await find(id.lowercased(), on: sql), conversation.includes(userId) else {
            throw HTTPError.notFound("There is no conversation \(id).")
        }
        return conversation
    }
}

/// A conversation as its participant sees it.
struct ConversationView: Codable, Sendable, ResponseBody {
    var id: String
    var participants: [String]
    var otherUser: KnownUser
    var createdAt: String
    var lastMessageAt: String
    var lastMessagePreview: String?
    var unreadCount: Int
}

/// A row of `messages`.
struct MessageRecord: Codable, Sendable {
    var id: String
    var conversationId: String
    var senderUserId: String
    var recipientUserId: String
    var content: String
    var type: String
    var status: String
    var metadata: String
    var createdAt: String
    var readAt: String?
    var deletedAt: String?

    static func find(_ id: String, on sql: any SQLDatabase) async throws -> MessageRecord? {
        guard id.isUUID else { return nil }
        return try await sql.select().column("*").from("messages").where("id", .equal, SQLBind(id.lowercased()))
            .first(decoding: MessageRecord.self, keyDecodingStrategy: .snakeCase)
    }

    var view: MessageView {
        MessageView(
            id: id, conversationId: conversationId, senderUserId: senderUserId, recipientUserId: recipientUserId,
            content: deletedAt == nil ? content : "", type: type, status: status, metadata: fromJSONText(metadata, fallback: [:]),
            createdAt: createdAt, readAt: readAt, deleted: deletedAt != nil
        )
    }
}

/// A message as the API shows it; a deleted one keeps its place with no content.
struct MessageView: Codable, Sendable, ResponseBody {
    var id: String
    var conversationId: String
    var senderUserId: String
    var recipientUserId: String
    var content: String
    var type: String
    var status: String
    var metadata: [String: JSONValue]
    var createdAt: String
    var readAt: String?
    var deleted: Bool
}

/// Unread messages to `userId`, per conversation.
func unreadCounts(for userId: String, conversations: [String]? = nil, on sql: any SQLDatabase) async throws -> [String: Int] {
    struct Row: Decodable { var conversation_id: String; var n: Int }
    var query = sql.select().column("conversation_id").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("messages")
        .where("recipient_user_id", .equal, SQLBind(userId)).where("status", .notEqual, SQLBind("read")).where("deleted_at", .is, SQLLiteral.null)
    if let conversations {
        guard !conversations.isEmpty else { return [:] }
        query = query.where("conversation_id", .in, SQLBind.group(conversations))
    }
    let rows = try await query.groupBy("conversation_id").all(decoding: Row.self)
    return Dictionary(rows.map { ($0.conversation_id, $0.n) }) { first, _ in first }
}
