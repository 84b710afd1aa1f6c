import Blytz
import BlytzEvents
import BlytzServices
import Foundation
import Logging

/// One notification for one user, in the words of its event.
struct Note: Sendable {
    var userId: String
    var title: String
    var message: String
    var link: String?
    /// The mail's text, when it differs from the notification's (links with tokens go only by mail).
    var mailBody: String?
    /// Where to mail it, when the event says (`UserCreated`, `PasswordResetRequested`).
    var mailTo: String?
}

/// By which channels an event type notifies unless the user chose otherwise, and how urgently.
struct Template: Sendable {
    var inApp: Bool
    var email: Bool
    var priority: String
}

/// Display names of the users an event mentions, as this service knows them.
struct Names: Sendable {
    var known: [String: String]

    func of(_ userId: String?, or fallback: String) -> String {
        userId.flatMap { known[$0.lowercased()] } ?? fallback
    }
}

/// Every event the communication service notifies of (`Notify` decodes these and no others).
enum NotifyingEvent: EventChoice {
    case userCreated(UserCreated)
    case passwordResetRequested(PasswordResetRequested)
    case proposalSubmitted(ProposalSubmitted)
    case proposalAccepted(ProposalAccepted)
    case contractSigned(ContractSigned)
    case milestoneApproved(MilestoneApproved)
    case paymentCompleted(PaymentCompleted)
    case reviewPosted(ReviewPosted)
    case disputeOpened(DisputeOpened)
    case disputeResolved(DisputeResolved)
    case matchCreated(MatchCreated)

    static let choices: [any Event.Type] = [
        UserCreated.self, PasswordResetRequested.self, ProposalSubmitted.self, ProposalAccepted.self, ContractSigned.self,
        MilestoneApproved.self, PaymentCompleted.self, ReviewPosted.self, DisputeOpened.self, DisputeResolved.self, MatchCreated.self,
    ]

    init(_ event: any Event) throws {
        switch event {
        case let event as UserCreated: self = .userCreated(event)
        case let event as PasswordResetRequested: self = .passwordResetRequested(event)
        case let event as ProposalSubmitted: self = .proposalSubmitted(event)
        case let event as ProposalAccepted: self = .proposalAccepted(event)
        case let event as ContractSigned: self = .contractSigned(event)
        case let event as MilestoneApproved: self = .milestoneApproved(event)
        case let event as PaymentCompleted: self = .paymentCompleted(event)
        case let event as ReviewPosted: self = .reviewPosted(event)
        case let event as DisputeOpened: self = .disputeOpened(event)
        case let event as DisputeResolved: self = .disputeResolved(event)
        case let event as MatchCreated: self = .matchCreated(event)
        default: throw UnexpectedEventType(type: type(of: event).type, expected: Self.choices.map { $0.type })
        }
    }

    /// The event itself, for the audit of what a notification came from.
    var event: any Event {
        switch self {
        case .userCreated(let event): event
        case .passwordResetRequested(let event): event
        case .proposalSubmitted(let event): event
        case .proposalAccepted(let event): event
        case .contractSigned(let event): event
        case .milestoneApproved(let event): event
        case .paymentCompleted(let event): event
        case .reviewPosted(let event): event
        case .disputeOpened(let event): event
        case .disputeResolved(let event): event
        case .matchCreated(let event): event
        }
    }

    /// The users whose names the wording uses.
    var mentioned: [String] {
        switch self {
        case .userCreated, .passwordResetRequested: []
        case .proposalSubmitted(let event): [event.vaUserId]
        case .proposalAccepted(let event): [event.companyUserId]
        case .contractSigned(let event): [event.companyUserId, event.vaUserId]
        case .milestoneApproved(let event): [event.companyUserId]
        case .paymentCompleted(let event): [event.payerUserId, event.payeeUserId]
        case .reviewPosted(let event): [event.reviewerUserId]
        case .disputeOpened(let event): [event.openedBy]
        case .disputeResolved: []
        case .matchCreated(let event): [event.companyUserId, event.vaUserId]
        }
    }

    /// Who hears of it, in which words, with which link.
    func notes(_ names: Names) -> [Note] {
        switch self {
        case .userCreated(let event):
            let company = event.role == .company
            return [Note(
                userId: event.userId, title: "Welcome to BlytzWork",
                message: company
                    ? "Your company account is ready. Complete your company profile to start hiring."
                    : "Your account is ready. Complete your profile so companies can find you.",
                link: company ? "/profiles/company/me" : "/profiles/va/me",
                mailBody: event.verificationToken.map { "Welcome to BlytzWork!\n\nConfirm your email address: {app}/verify-email?token=\($0)\n\nThe link works once." },
                mailTo: event.email
            )]
        case .passwordResetRequested(let event):
            return [Note(
                userId: event.userId, title: "Reset your BlytzWork password",
                message: "Someone asked to reset your password. If it was not you, you can ignore this.",
                link: nil,
                mailBody: "Reset your password: {app}/reset-password?token=\(event.token)\n\nThe link works once and expires at \(event.expiresAt). If you did not ask for it, ignore this mail.",
                mailTo: event.email
            )]
        case .proposalSubmitted(let event):
            return [Note(
                userId: event.companyUserId, title: "New proposal",
                message: "\(names.of(event.vaUserId, or: "A VA")) sent a proposal for your job\(Self.quoted(event.jobTitle)).",
                link: "/jobs/\(event.jobPostingId)/proposals/\(event.proposalId)"
            )]
        case .proposalAccepted(let event):
            return [Note(
                userId: event.vaUserId, title: "Proposal accepted",
                message: "\(names.of(event.companyUserId, or: "A company")) accepted your proposal\(Self.quoted(event.jobTitle)).",
                link: event.contractId.map { "/contracts/\($0)" } ?? "/proposals/\(event.proposalId)"
            )]
        case .contractSigned(let event):
            let parties = [event.companyUserId, event.vaUserId]
            return parties.map { user in
                Note(
                    userId: user, title: "Contract signed",
                    message: "Your contract\(Self.quoted(event.title)) with \(names.of(parties.first { $0 != user }, or: "the other party")) is signed and active.",
                    link: "/contracts/\(event.contractId)"
                )
            }
        case .milestoneApproved(let event):
            return [Note(
                userId: event.vaUserId, title: "Milestone approved",
                message: "\(names.of(event.companyUserId, or: "Your client")) approved the milestone\(Self.quoted(event.title)) (\(Money.text(event.amountCents, event.currency))).",
                link: "/contracts/\(event.contractId)/milestones/\(event.milestoneId)"
            )]
        case .paymentCompleted(let event):
            let amount = Money.text(event.amountCents, event.currency)
            let link = "/payments/\(event.paymentId)"
            let payee = names.of(event.payeeUserId, or: "your VA")
            return [Note(
                userId: event.payerUserId, title: "Payment sent",
                message: event.escrow
                    ? "Your payment of \(amount) to \(payee) went through and is held in escrow until you approve the work."
                    : "Your payment of \(amount) to \(payee) went through.",
                link: link
            )] + (event.escrow ? [] : [Note(
                userId: event.payeeUserId, title: "Payment received",
                message: "You received \(amount) from \(names.of(event.payerUserId, or: "your client")).", link: link
            )])
        case .reviewPosted(let event):
            return [Note(
                userId: event.targetUserId, title: "New review",
                message: "\(names.of(event.reviewerUserId, or: "Someone")) left you a \(event.rating)-star review.",
                link: "/reviews/\(event.reviewId)"
            )]
        case .disputeOpened(let event):
            return [event.companyUserId, event.vaUserId].filter { $0 != event.openedBy }.map { user in
                Note(
                    userId: user, title: "Dispute opened",
                    message: "\(names.of(event.openedBy, or: "The other party")) opened a dispute on your contract. Reply with your side within 7 days.",
                    link: "/disputes/\(event.disputeId)"
                )
            }
        case .disputeResolved(let event):
            return [event.companyUserId, event.vaUserId].map { user in
                Note(userId: user, title: "Dispute resolved", message: "The dispute on your contract was resolved: \(event.resolution.rawValue).", link: "/disputes/\(event.disputeId)")
            }
        case .matchCreated(let event):
            let job = Self.quoted(event.jobTitle).isEmpty ? " a job" : Self.quoted(event.jobTitle)
            return [(event.companyUserId, event.vaUserId), (event.vaUserId, event.companyUserId)].map { user, other in
                Note(
                    userId: user, title: "It's a match",
                    message: "You and \(names.of(other, or: "someone")) are interested in each other for\(job).",
                    link: "/matches/\(event.matchId)"
                )
            }
        }
    }

    static func quoted(_ title: String?) -> String { title.map { " “\($0)”" } ?? "" }
}

/// Money as people write it: `USD 1,250.00`, `JPY 5,000`.
enum Money {
    /// ISO-4217 currencies without minor units.
    static let zeroDecimal: Set = ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"]

    static func text(_ cents: Int, _ currency: String) -> String {
        let currency = currency.uppercased()
        let digits = zeroDecimal.contains(currency) ? 0 : 2
        let amount = Double(cents) / pow(10, Double(digits))
        return "\(currency) " + amount.formatted(.number.precision(.fractionLength(digits)).grouping(.automatic).locale(Locale(identifier: "en_US")))
    }
}

enum Templates {
    /// Where links in mail point: `BLYTZ_APP_URL`, default the local web app.
    static func appURL(_ configuration: Configuration) -> String {
        configuration["BLYTZ_APP_URL"] ?? "http://localhost:5173"
    }

    /// The default channels of every event type that notifies.
    static let all: [EventType: Template] = [
        UserCreated.type: Template(inApp: true, email: true, priority: "normal"),
        PasswordResetRequested.type: Template(inApp: false, email: true, priority: "high"),
        ProposalSubmitted.type: Template(inApp: true, email: false, priority: "normal"),
        ProposalAccepted.type: Template(inApp: true, email: true, priority: "high"),
        ContractSigned.type: Template(inApp: true, email: true, priority: "high"),
        MilestoneApproved.type: Template(inApp: true, email: false, priority: "normal"),
        PaymentCompleted.type: Template(inApp: true, email: true, priority: "normal"),
        ReviewPosted.type: Template(inApp: true, email: false, priority: "normal"),
        DisputeOpened.type: Template(inApp: true, email: true, priority: "high"),
        DisputeResolved.type: Template(inApp: true, email: true, priority: "high"),
        MatchCreated.type: Template(inApp: true, email: false, priority: "normal"),
    ]
}
