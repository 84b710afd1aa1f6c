import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit
import Synchronization

/// The consumer of every event that notifies (one function per event type in `functions.yaml`, all this
/// type): once per event id, it writes the notifications and the mails its template gives, as each
/// recipient's preferences allow, in one transaction; then pushes `notification.new` live and sends the mail.
struct Notify: EventConsumer {
    func handle(_ message: EventEnvelope<NotifyingEvent>, context: FunctionContext) async throws {
        guard let template = Templates.all[message.type] else { return }
        let database = try context.database
        let names = try await database.withConnection { sql in
            Names(known: try await UserDirectory.kept(message.data.mentioned.map { $0.lowercased() }, on: sql).mapValues(\.displayName))
        }
        let notes = message.data.notes(names)
        let app = Templates.appURL(context.configuration)
        let now = context.now.iso
        let recorded = jsonText(AnyEvent(fields: (try? JSON.decoder().decode([String: JSONValue].self, from: JSON.encoder().encode(message.data.event))) ?? [:]).withoutTokens)
        let planned = notes.map { note in
            (note: note, notification: NotificationRecord(
                id: UUID().uuidString.lowercased(), userId: note.userId.lowercased(), type: message.type.rawValue, title: note.title, message: note.message,
                link: note.link, data: recorded, priority: template.priority, read: false, eventId: message.id, createdAt: now
            ), mailId: UUID().uuidString.lowercased())
        }
        let outcome = Outcome()
        try await database.once(event: message.id, consumer: context.functionName) { sql in
            for plan in planned {
                guard let setting = try await Preferences.setting(message.type, of: plan.notification.userId, on: sql) else { continue }
                if setting.inApp {
                    try await sql.insert(into: "notifications").model(plan.notification, keyEncodingStrategy: .snakeCase).run()
                    outcome.notified(plan.notification)
                }
                var address = plan.note.mailTo
                if address == nil { address = try await UserDirectory.row(plan.notification.userId, on: sql)?.email }
                if setting.email || Preferences.alwaysMailed.contains(message.type), let address {
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
struct AuditLog: EventBatchConsumer {
    func handle(_ events: [EventEnvelope<AnyEvent>], context: FunctionContext) async throws -> [String] {
        let now = context.now.iso
        try await context.database.transaction { sql in
            for var event in events {
                event.data = event.data.withoutTokens
                try await sql.insert(into: "audit_log").columns("event_id", "type", "source", "subject", "time", "envelope", "recorded_at")
                    .values(SQLBind(event.id), SQLBind(event.type.rawValue), SQLBind(event.source), SQLBind(event.subject), SQLBind(event.time), SQLBind(jsonText(event)), SQLBind(now))
                    .ignoringConflicts(with: ["event_id"]).run()
            }
        }
        return []
    }
}

extension AnyEvent {
    /// The event without fields named like a token (verification and reset tokens stay in mail only).
    var withoutTokens: AnyEvent { AnyEvent(fields: fields.filter { !$0.key.lowercased().contains("token") }) }
}

/// The events that keep the user directory current.
enum DirectoryEvent: EventChoice {
    case created(UserCreated)
    case updated(UserUpdated)
    case deleted(UserDeleted)
    case profile(ProfileUpdated)

    static let choices: [any Event.Type] = [UserCreated.self, UserUpdated.self, UserDeleted.self, ProfileUpdated.self]

    init(_ event: any Event) throws {
        switch event {
        case let event as UserCreated: self = .created(event)
        case let event as UserUpdated: self = .updated(event)
        case let event as UserDeleted: self = .deleted(event)
        case let event as ProfileUpdated: self = .profile(event)
        default: throw UnexpectedEventType(type: type(of: event).type, expected: Self.choices.map { $0.type })
        }
    }

    var userId: String {
        switch self {
        case .created(let event): event.userId
        case .updated(let event): event.userId
        case .deleted(let event): event.userId
        case .profile(let event): event.userId
        }
    }
}

/// Keeps the user directory current from the user service's events: `UserCreated` (role, email),
/// `UserUpdated` (role, status), `ProfileUpdated` (display name, avatar), `UserDeleted`.
struct RefreshDirectory: EventConsumer {
    func handle(_ message: EventEnvelope<DirectoryEvent>, context: FunctionContext) async throws {
        let userId = message.data.userId.lowercased()
        try await context.database.once(event: message.id, consumer: context.functionName) { sql in
            try await UserDirectory.upsert(userId: userId, on: sql) { row in
                switch message.data {
                case .created(let event):
                    row.role = event.role.rawValue
                    row.email = event.email
                    row.status = AccountState.active.rawValue
                case .updated(let event):
                    row.role = event.role?.rawValue ?? row.role
                    row.status = event.status?.rawValue ?? row.status
                case .deleted:
                    row.status = AccountState.deleted.rawValue
                    row.displayName = "Deleted user"
                    row.avatarFileId = nil
                    row.email = nil
                case .profile(let event):
                    if let profile = event.vaProfile {
                        row.displayName = profile.name
                        row.avatarFileId = profile.avatarFileId ?? row.avatarFileId
                    } else if let profile = event.companyProfile {
                        row.displayName = profile.name
                        row.avatarFileId = profile.logoFileId ?? row.avatarFileId
                    }
                }
            }
        }
    }
}
