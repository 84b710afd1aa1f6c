import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import Foundation
import Logging
import SQLKit

/// `POST /chat/conversations {userId}`: the direct conversation with that user, made on first use (one per
/// pair, however many ask at once). The other user is looked up through the user service.
struct OpenConversation: HTTPFunction {
    static let access = Access.person

    struct Input: Codable, Sendable, Validatable {
        var userId: String

        func validate() -> [Problem.FieldError] {
            userId.isUUID ? [] : [.init(field: "userId", message: "must be a user id (UUID)")]
        }
    }

    func handle(_ request: FunctionRequest<Input>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<ConversationView> {
        let otherId = try request.input.userId.lowercased()
        guard otherId != caller.userId else { throw HTTPError.unprocessable([.init(field: "userId", message: "must be someone else")]) }
        guard let other = try await context.communication.directory.user(otherId, context: context, caller: caller), other.status != "deleted" else {
            throw HTTPError.notFound("There is no user \(otherId).")
        }
        let database = try context.database
        let (a, b) = caller.userId < otherId ? (caller.userId, otherId) : (otherId, caller.userId)
        let now = context.now.iso
        let (conversation, created) = try await database.transaction { sql -> (ConversationRecord, Bool) in
            if let existing = try await ConversationRecord.find(between: a, and: b, on: sql) { return (existing, false) }
            let record = ConversationRecord(id: UUID().uuidString.lowercased(), userA: a, userB: b, createdAt: now, lastMessageAt: now)
            try await sql.insert(into: "conversations").model(record, keyEncodingStrategy: .snakeCase).ignoringConflicts(with: ["user_a", "user_b"]).run()
            // A concurrent request may have made it first; both answer the one that exists.
            let stored = try await ConversationRecord.find(between: a, and: b, on: sql) ?? record
            return (stored, stored.id == record.id)
        }
        let unread = try await database.withConnection { sql in try await unreadCounts(for: caller.userId, conversations: [conversation.id], on: sql) }
        let view = ConversationView(
            id: conversation.id, participants: [a, b], otherUser: other, createdAt: conversation.createdAt, lastMessageAt: conversation.lastMessageAt,
            lastMessagePreview: conversation.lastMessagePreview, unreadCount: unread[conversation.id] ?? 0
        )
        return created ? .created(view, location: "/chat/conversations/\(conversation.id)") : .ok(view)
    }
}

/// `GET /chat/conversations`: the caller's conversations, most recent message first.
struct ListConversations: HTTPFunction {
    static let access = Access.person

    struct Query: QueryParameters {
        var page: PageRequest
        init(_ reader: inout QueryReader) throws(HTTPError) { page = try PageRequest(&reader, sort: "recent") }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<ConversationView>> {
        let page = try request.read(Query.self).page
        let keyset = Keyset(column: "last_message_at", idColumn: "id", descending: true)
        let (rows, people, unread) = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from("conversations")
                .where(group: { $0.where("user_a", .equal, SQLBind(caller.userId)).orWhere("user_b", .equal, SQLBind(caller.userId)) })
            let rows = try await keyset.select(query, page: page).all(decoding: ConversationRecord.self, keyDecodingStrategy: .snakeCase)
            let shown = Array(rows.prefix(page.limit))
            return (
                rows, try await UserDirectory.kept(shown.map { $0.other(than: caller.userId) }, on: sql),
                try await unreadCounts(for: caller.userId, conversations: shown.map(\.id), on: sql)
            )
        }
        let listed = page.page(rows, { conversation in
            let otherId = conversation.other(than: caller.userId)
            return ConversationView(
                id: conversation.id, participants: [conversation.userA, conversation.userB],
                otherUser: people[otherId] ?? KnownUser(id: otherId, displayName: "BlytzWork user"), createdAt: conversation.createdAt,
                lastMessageAt: conversation.lastMessageAt, lastMessagePreview: conversation.lastMessagePreview, unreadCount: unread[conversation.id] ?? 0
            )
        }, cursor: { ($0.lastMessageAt, $0.id) })
        return .ok(listed)
    }
}

/// `GET /chat/conversations/{id}/messages`: newest first, for its participants only (404 for anyone else).
struct ListMessages: HTTPFunction {
    static let access = Access.person

    struct Query: QueryParameters {
        var page: PageRequest
        init(_ reader: inout QueryReader) throws(HTTPError) { page = try PageRequest(&reader, sort: "newest") }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<MessageView>> {
        let id = try request.parameter("id")
        let page = try request.read(Query.self).page
        let keyset = Keyset(column: "created_at", idColumn: "id", descending: true)
        let rows = try await context.database.withConnection { sql in
            let conversation = try await ConversationRecord.participating(id, userId: caller.userId, on: sql)
            var query = sql.select().column("*").from("messages").where("conversation_id", .equal, SQLBind(conversation.id))
            return try await keyset.select(query, page: page).all(decoding: MessageRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(page.page(rows, \.view) { ($0.createdAt, $0.id) })
    }
}

/// `POST /chat/conversations/{id}/messages {content, type?, metadata?}`: stores the message and pushes
/// `message.new` to the recipient's open connections (and the sender's other ones).
struct SendMessage: HTTPFunction {
    static let access = Access.person

    struct Input: Codable, Sendable, Validatable {
        var content: String
        var type: String?
        var metadata: [String: JSONValue]?

        func validate() -> [Problem.FieldError] {
            var errors: [Problem.FieldError] = []
            let trimmed = content.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || content.count > 10_000 { errors.append(.init(field: "content", message: "must be 1 to 10000 characters")) }
            if let type, !["text", "file", "system"].contains(type) { errors.append(.init(field: "type", message: "must be text, file or system")) }
            if let metadata, jsonText(metadata).utf8.count > 4_096 { errors.append(.init(field: "metadata", message: "must be at most 4 KB")) }
            return errors
        }
    }

    func handle(_ request: FunctionRequest<Input>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<MessageView> {
        let id = try request.parameter("id")
        let message = try await context.database.transaction { sql -> MessageRecord in
            let conversation = try await ConversationRecord.participating(id, userId: caller.userId, on: sql)
            let input = try request.input
            let now = context.now.iso
            let message = MessageRecord(
                id: UUID().uuidString.lowercased(), conversationId: conversation.id, senderUserId: caller.userId,
                recipientUserId: conversation.other(than: caller.userId), content: input.content, type: input.type ?? "text", status: "sent",
                metadata: jsonText(input.metadata ?? [:]), createdAt: now
            )
            try await sql.insert(into: "messages").model(message, keyEncodingStrategy: .snakeCase).run()
            try await sql.update("conversations").set("last_message_at", to: SQLBind(now))
                .set("last_message_preview", to: SQLBind(String(input.content.prefix(120)))).where("id", .equal, SQLBind(conversation.id)).run()
            return message
        }
        let delivered = await Push.send("message.new", message.view, to: message.recipientUserId, context: context)
        await Push.send("message.new", message.view, to: caller.userId, context: context)
        var view = message.view
        if delivered > 0 {
            view.status = "delivered"
            try await context.database.transaction { sql in
                try await sql.update("messages").set("status", to: SQLBind("delivered")).where("id", .equal, SQLBind(message.id)).where("status", .equal, SQLBind("sent")).run()
            }
        }
        return .created(view, location: "/chat/messages/\(message.id)")
    }
}

/// `POST /chat/messages/{id}/read`: the recipient marks this message, and every earlier one to them in the
/// conversation, read; the sender's connections get `message.read`.
struct MarkMessageRead: HTTPFunction {
    static let access = Access.person

    struct Receipt: Codable, Sendable, ResponseBody {
        var conversationId: String
        var messageId: String
        var readerUserId: String
        var readAt: String
        var marked: Int
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Receipt> {
        let id = try request.parameter("id")
        let now = context.now.iso
        let (message, marked) = try await context.database.transaction { sql -> (MessageRecord, Int) in
            guard let message = try await MessageRecord.find(id, on: sql), message.senderUserId == caller.userId || message.recipientUserId == caller.userId else {
                throw HTTPError.notFound("There is no message \(id).")
            }
            guard message.recipientUserId == caller.userId else { throw HTTPError.forbidden("Only the recipient marks a message read.") }
            let marked = try await sql.update("messages").set("status", to: SQLBind("read")).set("read_at", to: SQLBind(now))
                .where("conversation_id", .equal, SQLBind(message.conversationId)).where("recipient_user_id", .equal, SQLBind(caller.userId))
                .where("status", .notEqual, SQLBind("read")).where("created_at", .lessThanOrEqual, SQLBind(message.createdAt))
                .returning("id").all()
            return (message, marked.count)
        }
        let receipt = Receipt(conversationId: message.conversationId, messageId: message.id, readerUserId: caller.userId, readAt: now, marked: marked)
        await Push.send("message.read", receipt, to: message.senderUserId, context: context)
        return .ok(receipt)
    }
}

/// `DELETE /chat/messages/{id}`: the sender removes a message's content; it keeps its place, marked deleted.
struct DeleteMessage: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        let id = try request.parameter("id")
        try await context.database.transaction { sql in
            guard let message = try await MessageRecord.find(id, on: sql), message.senderUserId == caller.userId || message.recipientUserId == caller.userId,
                  message.deletedAt == nil
            else { throw HTTPError.notFound("There is no message \(id).") }
            guard message.senderUserId == caller.userId else { throw HTTPError.forbidden("Only the sender deletes a message.") }
            try await sql.update("messages").set("content", to: SQLBind("")).set("metadata", to: SQLBind("{}")).set("deleted_at", to: SQLBind(context.now.iso))
                .where("id", .equal, SQLBind(message.id)).run()
        }
        return .noContent
    }
}

/// `GET /chat/unread-count`: unread messages to the caller, in all and per conversation.
struct UnreadCount: HTTPFunction {
    static let access = Access.person

    struct Output: Codable, Sendable, ResponseBody {
        var total: Int
        var conversations: [String: Int]
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let counts = try await context.database.withConnection { sql in try await unreadCounts(for: caller.userId, on: sql) }
        return .ok(Output(total: counts.values.reduce(0, +), conversations: counts))
    }
}
