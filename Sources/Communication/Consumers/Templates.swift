import Blytz
import BlytzServices
import Foundation
import Logging

/// How each event that notifies becomes notifications: who hears of it, in which words, with which link,
/// and by which channels unless the user chose otherwise.
struct Template: Sendable {
    /// One notification for one user.
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

    var inApp: Bool
    var email: Bool
    var priority: String
    var render: @Sendable (Fields, Names) -> [Note]
}

/// An event's `data`, read leniently: a missing field reads as nil.
struct Fields: Sendable {
    var values: [String: JSONValue]

    func string(_ key: String) -> String? {
        if case .string(let value)? = values[key] { return value }
        if case .number(let value)? = values[key] { return value.rounded() == value ? String(Int(value)) : String(value) }
        return nil
    }

    func int(_ key: String) -> Int? {
        if case .number(let value)? = values[key] { return Int(value) }
        return string(key).flatMap(Int.init)
    }

    /// `amountCents` and `currency` as people write money: `USD 1,250.00`.
    var money: String? {
        guard let cents = int("amountCents") else { return nil }
        let currency = (string("currency") ?? "USD").uppercased()
        let digits = ["JPY", "KRW", "VND", "CLP", "ISK"].contains(currency) ? 0 : 2
        let amount = Double(cents) / pow(10, Double(digits))
        return "\(currency) " + amount.formatted(.number.precision(.fractionLength(digits)).grouping(.automatic).locale(Locale(identifier: "en_US")))
    }
}

/// Display names of the users an event mentions, as this service knows them.
struct Names: Sendable {
    var known: [String: String]

    func of(_ userId: String?, or fallback: String) -> String {
        userId.flatMap { known[$0.lowercased()] } ?? fallback
    }
}

enum Templates {
    /// Where links in mail point: `BLYTZ_APP_URL`, default the local web app.
    static func appURL(_ configuration: Configuration) -> String {
        configuration["BLYTZ_APP_URL"] ?? "http://localhost:5173"
    }

    static func quoted(_ title: String?) -> String { title.map { " “\($0)”" } ?? "" }

    static let all: [String: Template] = [
        "UserCreated": Template(inApp: true, email: true, priority: "normal") { fields, _ in
            guard let user = fields.string("userId") else { return [] }
            let token = fields.string("verificationToken")
            return [Template.Note(
                userId: user, title: "Welcome to BlytzWork",
                message: fields.string("role") == "company"
                    ? "Your company account is ready. Complete your company profile to start hiring."
                    : "Your account is ready. Complete your profile so companies can find you.",
                link: fields.string("role") == "company" ? "/profiles/company/me" : "/profiles/va/me",
                mailBody: token.map { "Welcome to BlytzWork!\n\nConfirm your email address: {app}/verify-email?token=\($0)\n\nThe link works once." },
                mailTo: fields.string("email")
            )]
        },
        "PasswordResetRequested": Template(inApp: false, email: true, priority: "high") { fields, _ in
            guard let user = fields.string("userId"), let token = fields.string("token") else { return [] }
            return [Template.Note(
                userId: user, title: "Reset your BlytzWork password",
                message: "Someone asked to reset your password. If it was not you, you can ignore this.",
                link: nil,
                mailBody: "Reset your password: {app}/reset-password?token=\(token)\n\nThe link works once and expires at \(fields.string("expiresAt") ?? "the end of the hour"). If you did not ask for it, ignore this mail.",
                mailTo: fields.string("email")
            )]
        },
        "ProposalSubmitted": Template(inApp: true, email: false, priority: "normal") { fields, names in
            guard let company = fields.string("companyUserId") else { return [] }
            return [Template.Note(
                userId: company, title: "New proposal",
                message: "\(names.of(fields.string("vaUserId"), or: "A VA")) sent a proposal for your job\(quoted(fields.string("jobTitle"))).",
                link: "/jobs/\(fields.string("jobPostingId") ?? "")/proposals/\(fields.string("proposalId") ?? "")"
            )]
        },
        "ProposalAccepted": Template(inApp: true, email: true, priority: "high") { fields, names in
            guard let va = fields.string("vaUserId") else { return [] }
            return [Template.Note(
                userId: va, title: "Proposal accepted",
                message: "\(names.of(fields.string("companyUserId"), or: "A company")) accepted your proposal\(quoted(fields.string("jobTitle"))).",
                link: fields.string("contractId").map { "/contracts/\($0)" } ?? "/proposals/\(fields.string("proposalId") ?? "")"
            )]
        },
        "ContractSigned": Template(inApp: true, email: true, priority: "high") { fields, names in
            let parties = [fields.string("companyUserId"), fields.string("vaUserId")].compactMap { $0 }
            return parties.map { user in
                let other = parties.first { $0 != user }
                return Template.Note(
                    userId: user, title: "Contract signed",
                    message: "Your contract\(quoted(fields.string("title"))) with \(names.of(other, or: "the other party")) is signed and active.",
                    link: "/contracts/\(fields.string("contractId") ?? "")"
                )
            }
        },
        "MilestoneApproved": Template(inApp: true, email: false, priority: "normal") { fields, names in
            guard let va = fields.string("vaUserId") else { return [] }
            let amount = fields.money.map { " (\($0))" } ?? ""
            return [Template.Note(
                userId: va, title: "Milestone approved",
                message: "\(names.of(fields.string("companyUserId"), or: "Your client")) approved the milestone\(quoted(fields.string("title")))\(amount).",
                link: "/contracts/\(fields.string("contractId") ?? "")/milestones/\(fields.string("milestoneId") ?? "")"
            )]
        },
        "PaymentCompleted": Template(inApp: true, email: true, priority: "normal") { fields, names in
            let amount = fields.money ?? "A payment"
            var notes: [Template.Note] = []
            let link = "/payments/\(fields.string("paymentId") ?? "")"
            if let payee = fields.string("payeeUserId") {
                notes.append(.init(userId: payee, title: "Payment received", message: "You received \(amount) from \(names.of(fields.string("payerUserId"), or: "your client")).", link: link))
            }
            if let payer = fields.string("payerUserId") {
                notes.append(.init(userId: payer, title: "Payment sent", message: "Your payment of \(amount) to \(names.of(fields.string("payeeUserId"), or: "your VA")) went through.", link: link))
            }
            return notes
        },
        "ReviewPosted": Template(inApp: true, email: false, priority: "normal") { fields, names in
            guard let reviewee = fields.string("revieweeUserId") else { return [] }
            let stars = fields.int("rating").map { " \($0)-star" } ?? ""
            return [Template.Note(
                userId: reviewee, title: "New review",
                message: "\(names.of(fields.string("reviewerUserId"), or: "Someone")) left you a\(stars) review.",
                link: "/reviews/\(fields.string("reviewId") ?? "")"
            )]
        },
        "DisputeOpened": Template(inApp: true, email: true, priority: "high") { fields, names in
            let opener = fields.string("openedByUserId")
            let parties = [fields.string("companyUserId"), fields.string("vaUserId")].compactMap { $0 }.filter { $0 != opener }
            return parties.map { user in
                Template.Note(
                    userId: user, title: "Dispute opened",
                    message: "\(names.of(opener, or: "The other party")) opened a dispute on your contract. Reply with your side within 7 days.",
                    link: "/disputes/\(fields.string("disputeId") ?? "")"
                )
            }
        },
        "DisputeResolved": Template(inApp: true, email: true, priority: "high") { fields, _ in
            let parties = [fields.string("companyUserId"), fields.string("vaUserId")].compactMap { $0 }
            let outcome = fields.string("resolution").map { ": \($0)" } ?? "."
            return parties.map { user in
                Template.Note(userId: user, title: "Dispute resolved", message: "The dispute on your contract was resolved\(outcome)", link: "/disputes/\(fields.string("disputeId") ?? "")")
            }
        },
        "MatchCreated": Template(inApp: true, email: false, priority: "normal") { fields, names in
            let company = fields.string("companyUserId")
            let va = fields.string("vaUserId")
            return [(company, va), (va, company)].compactMap { user, other in
                user.map { Template.Note(
                    userId: $0, title: "It's a match",
                    message: "You and \(names.of(other, or: "someone")) are interested in each other for\(quoted(fields.string("jobTitle")).isEmpty ? " a job" : quoted(fields.string("jobTitle"))).",
                    link: "/matches/\(fields.string("matchId") ?? "")"
                ) }
            }
        },
    ]
}
