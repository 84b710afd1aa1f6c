import Blytz
import BlytzData
import BlytzServices
import Foundation
import Logging
import SQLKit
import Synchronization

/// The consumer of every event that notifies (one function per event type in `functions.yaml`, all this
/// type): once per event id, it writes the notifications and the mails its template gives, as each
/// recipient's preferences allow, in one transaction; then pushes `notification.new` live and sends the mail.
struct Notify: QueueFunction {
    func handle(_ message: EventEnvelope<[String: JSONValue]>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        guard let template = Templates.all[message.type] else {
            context.logger.warning("event without a notification template", metadata: ["event.type": "\(message.type)"])
            return
        }
        let fields = Fields(values: message.data)
        let database = try context.database
        let mentioned = ["userId", "vaUserId", "companyUserId", "payerUserId", "payeeUserId", "reviewerUserId", "revieweeUserId", "openedByUserId"]
            .compactMap { fields.string($0)?.lowercased() }
        let names = try await database.withConnection { sql in
            Names(known: try await UserDirectory.kept(mentioned, on: sql).mapValues(\.displayName))
        }
        let notes = template.render(fields, names)
        let app = Templates.appURL(context.configuration)
        let now = Date().iso
        let planned = notes.map { note in
            (note: note, notification: NotificationRecord(
                id: UUID().uuidString.lowercased(), userId: note.userId.lowercased(), type: message.type, title: note.title, message: note.message,
                link: note.link, data: jsonText(message.data.filter { !$0.key.lowercased().contains("token") }), priority: template.priority,
                read: false, eventId: message.id, createdAt: now
            ), mailId: UUID().uuidString.lowercased())
        }
        let outcome = Outcome()
        try await database.once(event: message.id, consumer: context.functionName) { sql in
            for plan in planned {
                guard let setting = try await Preferences.setting(message.type, of: plan.notification.userId, on: sql) else { continue }
                if setting.inApp {
                    try await sql.insert(into: "notifications").model(plan.notification, keyEncodingStrategy: .convertToSnakeCase).run()
                    outcome.notified(plan.notification)
                }
                var address = plan.note.mailTo
                if address == nil { address = try await UserDirectory.row(plan.notification.userId, on: sql)?.email }
                if setting.email || message.type == "PasswordResetRequested", let address {
                    let body = (plan.note.mailBody ?? "\(plan.note.message)\n\n\(plan.note.link.map { "{app}\($0)" } ?? "{app}")")
                        .replacingOccurrences(of: "{app}", with: app)
                    try await Mailer.enqueue(id: plan.mailId, to: address, subject: plan.note.title, body: body, eventId: message.id, on: sql)
                    outcome.mailed(plan.mailId)
                }
            }
        }
        for notification in outcome.notifications {
            await Push.send("notification.new", notification.view, to: notification.userId, context: context)
        }
        if !outcome.mails.isEmpty { await Mailer.deliver(outcome.mails, context: context) }
    }

    /// What the transaction did, collected for after the commit.
    final class Outcome: Sendable {
        private let state = Mutex<(notifications: [NotificationRecord], mails: [String])>(([], []))
        func notified(_ record: NotificationRecord) { state.withLock { $0.notifications.append(record) } }
        func mailed(_ id: String) { state.withLock { $0.mails.append(id) } }
        var notifications: [NotificationRecord] { state.withLock { $0.notifications } }
        var mails: [String] { state.withLock { $0.mails } }
    }
}

/// Records every event of every type (`events: ["*"]`) in `audit_log`, once per event id, with any
/// field named like a token removed.
struct AuditLog: QueueBatchFunction {
    func handle(_ batch: [QueueItem<EventEnvelope<[String: JSONValue]>>], context: FunctionContext) async throws -> [String] {
        let now = Date().iso
        try await context.database.transaction { sql in
            for item in batch {
                var event = item.message
                event.data = event.data.filter { !$0.key.lowercased().contains("token") }
                try await sql.insert(into: "audit_log").columns("event_id", "type", "source", "subject", "time", "envelope", "recorded_at")
                    .values(SQLBind(event.id), SQLBind(event.type), SQLBind(event.source), SQLBind(event.subject), SQLBind(event.time), SQLBind(jsonText(event)), SQLBind(now))
                    .ignoringConflicts(with: ["event_id"]).run()
            }
        }
        return []
    }
}

/// Keeps the user directory current from the user service's events: `UserCreated` (role, email),
/// `UserUpdated` (role, status), `ProfileUpdated` (display name, avatar), `UserDeleted`.
struct RefreshDirectory: QueueFunction {
    func handle(_ message: EventEnvelope<[String: JSONValue]>, metadata: QueueMessageMetadata, context: FunctionContext) async throws {
        let fields = Fields(values: message.data)
        guard let userId = fields.string("userId")?.lowercased() else { return }
        try await context.database.once(event: message.id, consumer: context.functionName) { sql in
            try await UserDirectory.upsert(userId: userId, on: sql) { row in
                switch message.type {
                case "UserCreated":
                    row.role = fields.string("role") ?? row.role
                    row.email = fields.string("email") ?? row.email
                    row.status = "active"
                case "UserUpdated":
                    row.role = fields.string("role") ?? row.role
                    row.status = fields.string("status") ?? row.status
                case "UserDeleted":
                    row.status = "deleted"
                    row.displayName = "Deleted user"
                    row.avatarFileId = nil
                    row.email = nil
                case "ProfileUpdated":
                    if case .object(let profile)? = message.data["vaProfile"] ?? message.data["companyProfile"] {
                        let profile = Fields(values: profile)
                        row.displayName = profile.string("name") ?? row.displayName
                        row.avatarFileId = profile.string("avatarFileId") ?? profile.string("logoFileId") ?? row.avatarFileId
                    }
                default: break
                }
            }
        }
    }
}
