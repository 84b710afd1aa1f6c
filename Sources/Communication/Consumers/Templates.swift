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
    case contractCancelled(ContractCancelled)
    case milestoneApproved(MilestoneApproved)
    case invoiceIssued(InvoiceIssued)
    case paymentCompleted(PaymentCompleted)
    case paymentFailed(PaymentFailed)
    case escrowReleased(EscrowReleased)
    case refundIssued(RefundIssued)
    case reviewPosted(ReviewPosted)
    case disputeOpened(DisputeOpened)
    case disputeResolved(DisputeResolved)
    case matchCreated(MatchCreated)

    static let choices: [any Event.Type] = [
        UserCreated.self, PasswordResetRequested.self, ProposalSubmitted.self, ProposalAccepted.self, ContractSigned.self, ContractCancelled.self,
        MilestoneApproved.self, InvoiceIssued.self, PaymentCompleted.self, PaymentFailed.self, EscrowReleased.self, RefundIssued.self,
        ReviewPosted.self, DisputeOpened.self, DisputeResolved.self, MatchCreated.self,
    ]

    init(_ event: any Event) throws {
        switch event {
        case let event as UserCreated: self = .userCreated(event)
        case let event as PasswordResetRequested: self = .passwordResetRequested(event)
        case let event as ProposalSubmitted: self = .proposalSubmitted(event)
        case let event as ProposalAccepted: self = .proposalAccepted(event)
        case let event as ContractSigned: self = .contractSigned(event)
        case let event as ContractCancelled: self = .contractCancelled(event)
        case let event as MilestoneApproved: self = .milestoneApproved(event)
        case let event as InvoiceIssued: self = .invoiceIssued(event)
        case let event as PaymentCompleted: self = .paymentCompleted(event)
        case let event as PaymentFailed: self = .paymentFailed(event)
        case let event as EscrowReleased: self = .escrowReleased(event)
        case let event as RefundIssued: self = .refundIssued(event)
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
        case .contractCancelled(let event): event
        case .milestoneApproved(let event): event
        case .invoiceIssued(let event): event
        case .paymentCompleted(let event): event
        case .paymentFailed(let event): event
        case .escrowReleased(let event): event
        case .refundIssued(let event): event
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
        case .contractCancelled(let event): [event.companyUserId, event.vaUserId]
        case .milestoneApproved(let event): [event.companyUserId]
        case .invoiceIssued(let event): [event.companyUserId, event.vaUserId]
        case .paymentCompleted(let event): [event.payerUserId, event.payeeUserId]
        case .paymentFailed(let event): [event.payeeUserId].compactMap { $0 }
        case .escrowReleased(let event): [event.payerUserId, event.payeeUserId].compactMap { $0 }
        case .refundIssued(let event): [event.payerUserId, event.payeeUserId].compactMap { $0 }
        case .reviewPosted(let event): [event.reviewerUserId]
        case .disputeOpened(let event): [event.openedBy]
        case .disputeResolved(let event): [event.companyUserId, event.vaUserId]
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
        case .contractCancelled(let event):
            let parties = [event.companyUserId, event.vaUserId]
            let why = event.reason.map { " Reason: \($0)" } ?? ""
            return parties.filter { $0 != event.cancelledBy }.map { user in
                let other = names.of(parties.first { $0 != user }, or: "the other party")
                let by = event.cancelledBy == nil ? "was cancelled" : "was cancelled by \(other)"
                return Note(
                    userId: user, title: "Contract cancelled",
                    message: "Your contract\(Self.quoted(event.title)) with \(other) \(by). Money still held in escrow goes back to the company.\(why)",
                    link: "/contracts/\(event.contractId)"
                )
            }
        case .invoiceIssued(let event):
            let amount = Money.text(event.dueCents, event.currency)
            let link = "/invoices/\(event.invoiceId)"
            return [
                Note(userId: event.companyUserId, title: "New invoice",
                     message: "Invoice \(event.number) from \(names.of(event.vaUserId, or: "your VA")) for \(amount) is due by \(event.dueDate).", link: link),
                Note(userId: event.vaUserId, title: "Invoice issued",
                     message: "Invoice \(event.number) to \(names.of(event.companyUserId, or: "your client")) for \(amount) is issued, due by \(event.dueDate).", link: link),
            ]
        case .paymentFailed(let event):
            let to = event.payeeUserId.map { " to \(names.of($0, or: "your VA"))" } ?? ""
            return [Note(
                userId: event.payerUserId, title: "Payment failed",
                message: "Your payment of \(Money.text(event.amountCents, event.currency))\(to) did not go through\(event.reason.map { ": " + $0.trimmingCharacters(in: CharacterSet(charactersIn: ". ")) } ?? ""). Nothing was charged.",
                link: "/payments/\(event.paymentId)"
            )]
        case .escrowReleased(let event):
            let link = "/payments/\(event.paymentId)"
            let payer = names.of(event.payerUserId, or: "Your client")
            return [Note(
                userId: event.payeeUserId, title: "Payment released",
                message: "\(payer) released \(Money.text(event.grossCents, event.currency)) from escrow: \(Money.text(event.netCents, event.currency)) is yours after the \(Money.text(event.feeCents, event.currency)) platform fee.",
                link: link
            )] + (event.payerUserId.map { payerId in [Note(
                userId: payerId, title: "Escrow released",
                message: "\(Money.text(event.grossCents, event.currency)) held in escrow was released to \(names.of(event.payeeUserId, or: "your VA")).", link: link
            )] } ?? [])
        case .refundIssued(let event):
            let link = "/refunds/\(event.refundId)"
            let amount = Money.text(event.amountCents, event.currency)
            return [Note(
                userId: event.payerUserId, title: "Refund issued",
                message: "You were refunded \(amount) of your payment\(event.payeeUserId.map { " to \(names.of($0, or: "your VA"))" } ?? "").", link: link
            )] + (event.payeeUserId.map { payee in
                [Note(
                    userId: payee, title: "Payment refunded",
                    message: event.payeeDebitCents > 0
                        ? "\(amount) of a payment from \(names.of(event.payerUserId, or: "your client")) was refunded; \(Money.text(event.payeeDebitCents, event.currency)) was taken back from your earnings."
                        : "\(amount) held in escrow for \(names.of(event.payerUserId, or: "your client")) went back to them.",
                    link: link
                )]
            } ?? [])
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
            let money = { (cents: Int) in Money.text(cents, event.currency ?? "USD") }
            let va = names.of(event.vaUserId, or: "the VA")
            let company = names.of(event.companyUserId, or: "the company")
            let outcome = switch event.resolution {
            case .release: "\(money(event.releasedCents)) was released to \(va)"
            case .refund: "\(money(event.refundedCents)) was refunded to \(company)"
            case .split: "\(money(event.releasedCents)) was released to \(va) and \(money(event.refundedCents)) refunded to \(company)"
            }
            return [event.companyUserId, event.vaUserId].map { user in
                Note(userId: user, title: "Dispute resolved", message: "The dispute on your contract was resolved: \(outcome).", link: "/disputes/\(event.disputeId)")
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
        ContractCancelled.type: Template(inApp: true, email: true, priority: "high"),
        InvoiceIssued.type: Template(inApp: true, email: true, priority: "normal"),
        PaymentFailed.type: Template(inApp: true, email: true, priority: "high"),
        EscrowReleased.type: Template(inApp: true, email: true, priority: "normal"),
        RefundIssued.type: Template(inApp: true, email: true, priority: "normal"),
        MilestoneApproved.type: Template(inApp: true, email: false, priority: "normal"),
        PaymentCompleted.type: Template(inApp: true, email: true, priority: "normal"),
        ReviewPosted.type: Template(inApp: true, email: false, priority: "normal"),
        DisputeOpened.type: Template(inApp: true, email: true, priority: "high"),
        DisputeResolved.type: Template(inApp: true, email: true, priority: "high"),
        MatchCreated.type: Template(inApp: true, email: false, priority: "normal"),
    ]
}
