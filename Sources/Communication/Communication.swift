import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import Foundation
import Logging

/// The communication service: chat, notifications and live push. Each function's name is its
/// `functions.yaml` key.
public enum Communication: BlytzService {
    public static let name = ServiceName.communication

    public static let functions: [String: any FunctionHandler] = [
        "communication-on-account-status": AccountStatusConsumer(),

        "communication-conversation-open": OpenConversation(),
        "communication-conversation-list": ListConversations(),
        "communication-message-list": ListMessages(),
        "communication-message-send": SendMessage(),
        "communication-message-read": MarkMessageRead(),
        "communication-message-delete": DeleteMessage(),
        "communication-unread-count": UnreadCount(),

        "communication-notification-list": ListNotifications(),
        "communication-notification-read": MarkNotificationRead(),
        "communication-notification-read-all": MarkAllNotificationsRead(),
        "communication-notification-delete": DeleteNotification(),
        "communication-preferences-get": GetPreferences(),
        "communication-preferences-put": PutPreferences(),

        "communication-ws-connect": Connect(),
        "communication-ws-disconnect": Disconnect(),
        "communication-ws-default": ClientMessage(),
        "communication-ws-sweep": SweepConnections(),

        "communication-on-user-created": Notify(),
        "communication-on-password-reset-requested": Notify(),
        "communication-on-proposal-submitted": Notify(),
        "communication-on-proposal-accepted": Notify(),
        "communication-on-contract-signed": Notify(),
        "communication-on-contract-cancelled": Notify(),
        "communication-on-milestone-approved": Notify(),
        "communication-on-invoice-issued": Notify(),
        "communication-on-payment-completed": Notify(),
        "communication-on-payment-failed": Notify(),
        "communication-on-escrow-released": Notify(),
        "communication-on-refund-issued": Notify(),
        "communication-on-review-posted": Notify(),
        "communication-on-dispute-opened": Notify(),
        "communication-on-dispute-resolved": Notify(),
        "communication-on-match-created": Notify(),
        "communication-audit": AuditLog(),
        "communication-directory": RefreshDirectory(),
        "communication-mail-retry": RetryMail(),
    ]

    /// The versioned schema of `communication_db`, applied in order.
    public static let migrations: [Migration] = Schema.migrations

    /// A worker's parts beside its database: the authenticator and service client every service has, the
    /// user directory, and the mail transport.
    public static func setup(_ configuration: Configuration, _ logger: Logger, _ dependencies: inout Dependencies) async throws {
        try await ServiceParts.setup(configuration, logger, &dependencies)
        dependencies[CommunicationEnvironmentKey.self] = CommunicationEnvironment(configuration: configuration)
    }

    /// `mail [--to address]`: the development mailbox, as JSON; `import --from postgres://…`: the monolith's notifications and chats.
    public static let commands: [ServiceCommand] = [
        Import.command,
        ServiceCommand("mail", needsDatabase: false) { arguments, _, configuration, _ in
            let to = arguments.firstIndex(of: "--to").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
            return String(decoding: DevMailboxFiles.listing(dataDirectory: configuration.dataDirectory, to: to), as: UTF8.self)
        },
    ]
}

/// What the communication handlers share in a warm worker.
struct CommunicationEnvironment: Sendable {
    let directory: UserDirectory
    let mail: any MailTransport

    init(configuration: Configuration) {
        directory = UserDirectory(ttl: .seconds(configuration.int("DIRECTORY_TTL_SECONDS") ?? 300))
        if let host = configuration["SMTP_HOST"], !host.isEmpty {
            mail = SMTPTransport(host: host, port: configuration.int("SMTP_PORT") ?? 25, heloName: configuration["SMTP_HELO"] ?? "blytz.local")
        } else {
            mail = DevMailbox(directory: configuration.dataDirectory + "/mail")
        }
    }
}

enum CommunicationEnvironmentKey: DependencyKey {
    typealias Value = CommunicationEnvironment
}

extension FunctionContext {
    var communication: CommunicationEnvironment {
        get throws {
            try dependencies.require(CommunicationEnvironmentKey.self, "The communication service")
        }
    }
}
