import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// `communication import --from postgres://…`: the monolith's notifications. It kept chat in the same
/// table (`chat_message` rows, the sender in `data.senderId`): those become messages of the conversation
/// of the pair, read or delivered as the row says; the rest are notifications of the event type that
/// makes them here. The README's table ("Moving the data") is the mapping.
enum Import {
    static let command = LegacyImport.command(service: "communication") { session in
        try await notifications(session)
    }

    /// The monolith's notification types as the event types that make the same notification here.
    static let types = [
        "payment_received": PaymentCompleted.type.rawValue, "payment_sent": PaymentCompleted.type.rawValue,
        "refund_processed": RefundIssued.type.rawValue, "invoice_created": InvoiceIssued.type.rawValue,
    ]

    struct NotificationRow: Decodable, Sendable {
        var legacyId: String
        var userLegacyId: String
        var type: String
        var title: String
        var message: String
        var data: String?
        var senderLegacyId: String?
        var messageType: String?
        var read: Bool
        var priority: String
        var createdAt: String
        var senderExists: Bool
    }

    static func notifications(_ session: LegacyImport.Session) async throws {
        try await session.copy("notifications", into: "notifications, messages", key: nil, columns: [
            "t.\"userId\" AS user_legacy_id", "t.type AS type", "t.title AS title", "t.message AS message", "\(LegacyImport.json("data")) AS data",
            "t.data ->> 'senderId' AS sender_legacy_id", "t.data ->> 'type' AS message_type", "t.read AS read", "t.priority AS priority",
            "\(LegacyImport.time("createdAt")) AS created_at",
            // A sender the monolith no longer has cannot be talked to.
            #"EXISTS (SELECT 1 FROM {schema}.users u WHERE u.id = t.data ->> 'senderId') AS sender_exists"#,
        ], batch: 5000, as: NotificationRow.self) { rows, sql, report in
            var notifications: [NotificationRecord] = []
            var messages: [MessageRecord] = []
            var conversations: [String: ConversationRecord] = [:]
            let outcomes = rows.map { row -> LegacyImport.Outcome in
                let recipient = Monolith.userId(row.userLegacyId)
                guard row.type == "chat_message" else {
                    guard let type = types[row.type] else { return .skipped("unknown type '\(row.type)'") }
                    report.map("type '\(row.type)' → \(type)")
                    notifications.append(NotificationRecord(
                        id: LegacyImport.id("notifications", row.legacyId), userId: recipient, type: type, title: row.title, message: row.message, link: nil,
                        data: row.data ?? "{}", priority: row.priority == "high" ? "high" : "normal", read: row.read, eventId: nil, createdAt: row.createdAt
                    ))
                    return .written
                }
                guard let senderLegacy = row.senderLegacyId, row.senderExists else { return .skipped("chat message from a sender the monolith does not have") }
                let sender = Monolith.userId(senderLegacy)
                guard sender != recipient else { return .skipped("chat message to oneself") }
                let (a, b) = sender < recipient ? (sender, recipient) : (recipient, sender)
                let conversationId = LegacyImport.id("conversations", "\(a):\(b)")
                if conversations[conversationId] == nil {
                    conversations[conversationId] = ConversationRecord(id: conversationId, userA: a, userB: b, createdAt: row.createdAt, lastMessageAt: row.createdAt)
                }
                conversations[conversationId]!.createdAt = min(conversations[conversationId]!.createdAt, row.createdAt)
                let type = ["text", "image", "file"].contains(row.messageType ?? "text") ? row.messageType ?? "text" : "text"
                messages.append(MessageRecord(
                    id: LegacyImport.id("messages", row.legacyId), conversationId: conversationId, senderUserId: sender, recipientUserId: recipient,
                    content: row.message, type: type, status: row.read ? "read" : "delivered", metadata: "{}", createdAt: row.createdAt,
                    readAt: row.read ? row.createdAt : nil, deletedAt: nil
                ))
                report.map("chat message → a message of its pair's conversation")
                return .written
            }
            try await LegacyImport.upsert(notifications, in: "notifications", on: sql)
            guard !messages.isEmpty else { return outcomes }
            try await sql.insert(into: "conversations").models(Array(conversations.values), keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil)
                .ignoringConflicts(with: ["id"]).run()
            try await LegacyImport.upsert(messages, in: "messages", on: sql)
            // Each conversation's newest message, whatever order they arrived in.
            try await sql.raw("""
                UPDATE conversations SET
                    last_message_at = (SELECT max(m.created_at) FROM messages m WHERE m.conversation_id = conversations.id),
                    last_message_preview = (SELECT substr(m.content, 1, 100) FROM messages m WHERE m.conversation_id = conversations.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1)
                WHERE id IN \(SQLBind.group(Array(conversations.keys)))
                """).run()
            return outcomes
        }
    }
}
