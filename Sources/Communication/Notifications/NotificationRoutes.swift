import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import Foundation
import Logging
import SQLKit

/// A row of `notifications`.
struct NotificationRecord: Codable, Sendable {
    var id: String
    var userId: String
    var type: String
    var title: String
    var message: String
    var link: String?
    var data: String
    var priority: String
    var read: Bool
    var eventId: String?
    var createdAt: String

    var view: NotificationView {
        NotificationView(id: id, type: type, title: title, message: message, link: link, data: fromJSONText(data, fallback: [:]), priority: priority, read: read, createdAt: createdAt)
    }
}

/// A notification as its owner sees it.
struct NotificationView: Codable, Sendable, ResponseBody {
    var id: String
    var type: String
    var title: String
    var message: String
    var link: String?
    var data: [String: JSONValue]
    var priority: String
    var read: Bool
    var createdAt: String
}

/// `GET /notifications`: the caller's notifications, newest first; `?unread=true` for unread ones only.
struct ListNotifications: HTTPFunction {
    static let access = Access.person

    struct Query: QueryParameters {
        var unread: Bool?
        var page: PageRequest

        init(_ reader: inout QueryReader) throws(HTTPError) {
            unread = reader.bool("unread")
            try reader.check()
            page = try PageRequest(&reader, sort: "newest")
        }
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Page<NotificationView>> {
        let filters = try request.read(Query.self)
        let (unread, page) = (filters.unread, filters.page)
        let keyset = Keyset(column: "created_at", idColumn: "id", descending: true)
        let rows = try await context.database.withConnection { sql in
            var query = sql.select().column("*").from("notifications").where("user_id", .equal, SQLBind(caller.userId))
            if unread == true { query = query.where("read", .equal, SQLBind(false)) }
            return try await keyset.select(query, page: page).all(decoding: NotificationRecord.self, keyDecodingStrategy: .snakeCase)
        }
        return .ok(page.page(rows, \.view) { ($0.createdAt, $0.id) })
    }
}

/// `POST /notifications/{id}/read`: marks one of the caller's notifications read.
struct MarkNotificationRead: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<NotificationView> {
        let id = try request.parameter("id")
        let record = try await context.database.transaction { sql -> NotificationRecord in
            var record = try await owned(id, by: caller.userId, on: sql)
            try await sql.update("notifications").set("read", to: SQLBind(true)).where("id", .equal, SQLBind(record.id)).run()
            record.read = true
            return record
        }
        return .ok(record.view)
    }
}

/// `POST /notifications/read-all`: marks every notification of the caller read.
struct MarkAllNotificationsRead: HTTPFunction {
    static let access = Access.person

    struct Output: Codable, Sendable, ResponseBody {
        var marked: Int
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Output> {
        let marked = try await context.database.transaction { sql in
            try await sql.update("notifications").set("read", to: SQLBind(true)).where("user_id", .equal, SQLBind(caller.userId))
                .where("read", .equal, SQLBind(false)).returning("id").all().count
        }
        return .ok(Output(marked: marked))
    }
}

/// `DELETE /notifications/{id}`: removes one of the caller's notifications.
struct DeleteNotification: HTTPFunction {
    static let access = Access.person

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Empty> {
        let id = try request.parameter("id")
        try await context.database.transaction { sql in
            let record = try await owned(id, by: caller.userId, on: sql)
            try await sql.delete(from: "notifications").where("id", .equal, SQLBind(record.id)).run()
        }
        return .noContent
    }
}

/// The notification `id` if it is `userId`'s; a 404 otherwise (another user's notifications are private).
func owned(_ id: String, by userId: String, on sql: any SQLDatabase) async throws -> NotificationRecord {
    guard id.isUUID, let record = try await sql.select().column("*").from("notifications").where("id", .equal, SQLBind(id.lowercased()))
        .first(decoding: NotificationRecord.self, keyDecodingStrategy: .snakeCase), record.userId == userId
    else { throw HTTPError.notFound("There is no notification \(id).") }
    return record
}
