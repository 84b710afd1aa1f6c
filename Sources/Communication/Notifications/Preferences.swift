import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging
import SQLKit

/// Per event type and channel, whether a user wants to hear of it. Unset means the type's default.
struct Preferences: Sendable {
    /// Event types whose mail cannot be turned off: a password reset is how an account is recovered.
    static let alwaysMailed: Set<EventType> = [PasswordResetRequested.type]

    /// One event type's setting.
    struct Setting: Codable, Sendable, Equatable {
        var type: EventType
        var inApp: Bool
        var email: Bool
    }

    /// The settings of `userId` for `types` (every notifying event type by default), defaults filled in.
    static func settings(of userId: String, types: [EventType] = Templates.all.keys.sorted(), on sql: any SQLDatabase) async throws -> [Setting] {
        struct Row: Decodable { var event_type: String; var channel: String; var enabled: Bool }
        let rows = try await sql.select().columns("event_type", "channel", "enabled").from("notification_preferences")
            .where("user_id", .equal, SQLBind(userId)).where("event_type", .in, SQLBind.group(types.map(\.rawValue))).all(decoding: Row.self)
        return types.compactMap { type in
            guard let template = Templates.all[type] else { return nil }
            func value(_ channel: String, _ fallback: Bool) -> Bool {
                rows.first { $0.event_type == type.rawValue && $0.channel == channel }?.enabled ?? fallback
            }
            return Setting(type: type, inApp: value("inApp", template.inApp), email: value("email", template.email))
        }
    }

    /// The setting of `userId` for one event type; nil for a type that does not notify.
    static func setting(_ type: EventType, of userId: String, on sql: any SQLDatabase) async throws -> Setting? {
        try await settings(of: userId, types: [type], on: sql).first
    }
}

/// `GET /notifications/preferences`: the caller's settings for every event type and channel.
struct GetPreferences: HTTPFunction {
    static let access = Access.person

    struct Output: Codable, Sendable, ResponseBody {
        var preferences: [Preferences.Setting]
    }

    func handle(_ request: FunctionRequest<Empty>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<Output> {
        return .ok(Output(preferences: try await context.database.withConnection { sql in try await Preferences.settings(of: caller.userId, on: sql) }))
    }
}

/// `PUT /notifications/preferences {preferences: [{type, inApp?, email?}]}`: changes the settings named.
/// Password-reset mail cannot be turned off (it is how an account is recovered).
struct PutPreferences: HTTPFunction {
    static let access = Access.person

    struct Input: Codable, Sendable, Validatable {
        struct Change: Codable, Sendable {
            var type: EventType
            var inApp: Bool?
            var email: Bool?
        }

        var preferences: [Change]

        func validate() -> [Problem.FieldError] {
            var errors: [Problem.FieldError] = []
            for (index, change) in preferences.enumerated() {
                if Templates.all[change.type] == nil { errors.append(.init(field: "preferences[\(index)].type", message: "is not an event type that notifies")) }
                if Preferences.alwaysMailed.contains(change.type) && change.email == false {
                    errors.append(.init(field: "preferences[\(index)].email", message: "cannot be turned off for password resets"))
                }
            }
            if preferences.count > 50 { errors.append(.init(field: "preferences", message: "must list at most 50 changes")) }
            return errors
        }
    }

    func handle(_ request: FunctionRequest<Input>, caller: Caller, context: FunctionContext) async throws -> FunctionResponse<GetPreferences.Output> {
        let settings = try await context.database.transaction { sql in
            for change in try request.input.preferences {
                for (channel, value) in [("inApp", change.inApp), ("email", change.email)] {
                    guard let value else { continue }
                    try await sql.delete(from: "notification_preferences").where("user_id", .equal, SQLBind(caller.userId))
                        .where("event_type", .equal, SQLBind(change.type.rawValue)).where("channel", .equal, SQLBind(channel)).run()
                    try await sql.insert(into: "notification_preferences").columns("user_id", "event_type", "channel", "enabled")
                        .values(SQLBind(caller.userId), SQLBind(change.type.rawValue), SQLBind(channel), SQLBind(value)).run()
                }
            }
            return try await Preferences.settings(of: caller.userId, on: sql)
        }
        return .ok(GetPreferences.Output(preferences: settings))
    }
}
