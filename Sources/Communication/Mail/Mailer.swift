import Blytz
import BlytzEvents
import BlytzData
import BlytzServices
import Foundation
import Logging
import SQLKit

/// One mail.
struct Mail: Codable, Sendable, Equatable {
    var id: String
    var to: String
    var from: String
    var subject: String
    var body: String
    var createdAt: String
}

/// Where mail goes: the development mailbox (files a developer reads with `blytz mail` or
/// `GET /_local/mail`), or an SMTP server when `SMTP_HOST` is set.
protocol MailTransport: Sendable {
    func send(_ mail: Mail) async throws
}

/// Mail is written to `mail_queue` in the transaction that decides to send it, then sent after the
/// commit; what fails (or is cut short by a crash) is sent by the retry schedule, so a mail is never lost.
/// A transport may see a mail twice after a crash between sending and marking it sent.
enum Mailer {
    struct Row: Codable, Sendable {
        var id: String
        var recipient: String
        var subject: String
        var body: String
        var eventId: String?
        var createdAt: String
        var sentAt: String?
        var attempts: Int
        var lastError: String?
    }

    static func enqueue(id: String, to recipient: String, subject: String, body: String, eventId: String?, on sql: any SQLDatabase) async throws {
        let row = Row(id: id, recipient: recipient, subject: subject, body: body, eventId: eventId, createdAt: Date().iso, attempts: 0)
        try await sql.insert(into: "mail_queue").model(row, keyEncodingStrategy: .snakeCase).run()
    }

    /// Sends the unsent mails among `ids` (all unsent ones when nil), marking each sent or its error.
    static func deliver(_ ids: [String]?, context: FunctionContext) async {
        do {
            let database = try context.database
            let transport = try context.communication.mail
            let from = context.configuration["MAIL_FROM"] ?? "BlytzWork <no-reply@blytz.work>"
            let pending = try await database.withConnection { sql in
                var query = sql.select().column("*").from("mail_queue").where("sent_at", .is, SQLLiteral.null).where("attempts", .lessThan, SQLBind(20))
                if let ids { query = query.where("id", .in, SQLBind.group(ids)) }
                return try await query.orderBy("created_at").limit(200).all(decoding: Row.self, keyDecodingStrategy: .snakeCase)
            }
            for row in pending {
                let mail = Mail(id: row.id, to: row.recipient, from: from, subject: row.subject, body: row.body, createdAt: row.createdAt)
                let error: String?
                do {
                    try await transport.send(mail)
                    error = nil
                } catch let failure {
                    error = "\(failure)"
                }
                try await database.transaction { sql in
                    var update = sql.update("mail_queue").set("attempts", to: SQLBind(row.attempts + 1))
                    update = error == nil ? update.set("sent_at", to: SQLBind(Date().iso)) : update.set("last_error", to: SQLBind(error))
                    try await update.where("id", .equal, SQLBind(row.id)).run()
                }
                if let error { context.logger.warning("mail not sent", metadata: ["mail.id": "\(row.id)", "error": "\(error)"]) }
            }
        } catch {
            context.logger.error("mail delivery failed", metadata: ["error": "\(error)"])
        }
    }
}

/// Every minute: sends mail whose first attempt failed or never happened.
struct RetryMail: ScheduleFunction {
    func handle(_ event: ScheduledEvent, context: FunctionContext) async throws {
        await Mailer.deliver(nil, context: context)
    }
}

/// The development mailbox: each mail a JSON file in `<data>/mail/`, named so they list in order.
struct DevMailbox: MailTransport {
    let directory: String

    func send(_ mail: Mail) async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = "\(directory)/\(mail.createdAt.replacingOccurrences(of: ":", with: "-"))-\(mail.id).json"
        try encoder.encode(mail).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
