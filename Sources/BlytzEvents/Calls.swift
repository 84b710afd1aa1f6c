import Blytz
import Foundation

/// A synchronous call from one service to another (API.md, "Synchronous calls"): the callee's route, the
/// body the caller sends and the answer it decodes, defined once for both sides.
///
/// ```
/// let user = try await context.services.call(GetBasicUserCall(userId: id), context: context, as: .person(caller))
/// ```
public protocol ServiceCall: Sendable {
    associatedtype Body: Codable & Sendable = Empty
    associatedtype Answer: Codable & Sendable

    /// The service that answers it.
    static var service: ServiceName { get }
    /// `GET`, `POST`, …
    var method: String { get }
    /// The path on the callee, with its query.
    var path: String { get }
    var body: Body? { get }
    /// Makes an unsafe call safe to repeat (the callee honours `Idempotency-Key`).
    var idempotencyKey: String? { get }
}

extension ServiceCall {
    public var method: String { "GET" }
    public var idempotencyKey: String? { nil }
}

extension ServiceCall where Body == Empty {
    public var body: Empty? { nil }
}

/// One page of a list, as every list route answers it: `{items, nextCursor}`; `nextCursor` is nil on the last page.
public struct Page<Item: Codable & Sendable>: Codable, Sendable, ResponseBody {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// What chat, notifications and contracts need of a user: `GET /users/{id}/basic` on the user service.
public struct BasicUser: Codable, Sendable, Equatable, ResponseBody {
    public var id: String
    public var role: Role
    public var displayName: String
    public var avatarFileId: String?
    public var status: AccountState

    public init(id: String, role: Role, displayName: String, avatarFileId: String?, status: AccountState) {
        self.id = id
        self.role = role
        self.displayName = displayName
        self.avatarFileId = avatarFileId
        self.status = status
    }
}

/// communication → users (resolve user details), contracts → users (validate participants).
public struct GetBasicUserCall: ServiceCall {
    public typealias Answer = BasicUser
    public static let service = ServiceName.users
    public var userId: String
    public var path: String { "/users/\(userId)/basic" }

    public init(userId: String) {
        self.userId = userId
    }
}

/// A VA's proposal as the user service lists it among their applications.
public struct ProposalSummary: Codable, Sendable, Equatable {
    public var id: String
    public var jobPostingId: String
    public var jobTitle: String?
    public var vaUserId: String
    public var status: String
    public var bidCents: Int?
    public var currency: String?
    public var createdAt: String

    public init(id: String, jobPostingId: String, jobTitle: String?, vaUserId: String, status: String, bidCents: Int?, currency: String?, createdAt: String) {
        self.id = id
        self.jobPostingId = jobPostingId
        self.jobTitle = jobTitle
        self.vaUserId = vaUserId
        self.status = status
        self.bidCents = bidCents
        self.currency = currency
        self.createdAt = createdAt
    }
}

/// users → marketplace: a VA's proposals, `GET /proposals?vaUserId=`.
public struct ListProposalsCall: ServiceCall {
    public typealias Answer = Page<ProposalSummary>
    public static let service = ServiceName.marketplace
    public var vaUserId: String
    public var limit: Int
    public var cursor: String?
    public var path: String {
        var path = "/proposals?vaUserId=\(vaUserId)&limit=\(limit)"
        if let cursor = cursor?.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { path += "&cursor=\(cursor)" }
        return path
    }

    public init(vaUserId: String, limit: Int, cursor: String?) {
        self.vaUserId = vaUserId
        self.limit = limit
        self.cursor = cursor
    }
}

/// The body of `POST /contracts`: from a company, or from the marketplace when a proposal is accepted
/// (only the marketplace may link a proposal or job).
public struct CreateContractBody: Codable, Sendable, Equatable {
    public var title: String
    public var companyUserId: String
    public var vaUserId: String
    /// `fixed` or `hourly`.
    public var type: String
    public var amountCents: Int?
    public var hourlyRateCents: Int?
    public var currency: String
    public var terms: String?
    public var startDate: String?
    public var endDate: String?
    public var proposalId: String?
    public var jobId: String?
    public var jobPostingId: String?

    public init(
        title: String, companyUserId: String, vaUserId: String, type: String, amountCents: Int?, hourlyRateCents: Int?, currency: String,
        terms: String? = nil, startDate: String? = nil, endDate: String? = nil, proposalId: String? = nil, jobId: String? = nil, jobPostingId: String? = nil
    ) {
        self.title = title
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
        self.type = type
        self.amountCents = amountCents
        self.hourlyRateCents = hourlyRateCents
        self.currency = currency
        self.terms = terms
        self.startDate = startDate
        self.endDate = endDate
        self.proposalId = proposalId
        self.jobId = jobId
        self.jobPostingId = jobPostingId
    }
}

/// A contract as its creator learns of it.
public struct ContractSummary: Codable, Sendable, Equatable, ResponseBody {
    public var id: String
    public var status: String
    public var companyUserId: String
    public var vaUserId: String
    public var proposalId: String?

    public init(id: String, status: String, companyUserId: String, vaUserId: String, proposalId: String?) {
        self.id = id
        self.status = status
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
        self.proposalId = proposalId
    }
}

/// marketplace → contracts: create the contract of an accepted proposal, idempotent on a key derived from it.
public struct CreateContractCall: ServiceCall {
    public typealias Answer = ContractSummary
    public static let service = ServiceName.contracts
    public var method: String { "POST" }
    public var path: String { "/contracts" }
    public var body: CreateContractBody?
    public var idempotencyKey: String?

    public init(_ body: CreateContractBody, idempotencyKey: String) {
        self.body = body
        self.idempotencyKey = idempotencyKey
    }
}

/// The body of `POST /payments`: a company's charge, or the contracts service's on its behalf for a
/// milestone (held in escrow) or an invoice.
public struct CreatePaymentBody: Codable, Sendable, Equatable {
    public var payerUserId: String
    public var payeeUserId: String
    public var amountCents: Int
    public var currency: String
    public var contractId: String?
    public var milestoneId: String?
    public var invoiceId: String?
    /// The provider's payment method (the simulated provider documents its test methods).
    public var paymentMethod: String?

    public init(payerUserId: String, payeeUserId: String, amountCents: Int, currency: String, contractId: String? = nil, milestoneId: String? = nil, invoiceId: String? = nil, paymentMethod: String? = nil) {
        self.payerUserId = payerUserId
        self.payeeUserId = payeeUserId
        self.amountCents = amountCents
        self.currency = currency
        self.contractId = contractId
        self.milestoneId = milestoneId
        self.invoiceId = invoiceId
        self.paymentMethod = paymentMethod
    }
}

/// What a payer must do to finish a payment that `requires_action`: `confirm_payment` (the simulated
/// provider: `POST /payments/{id}/confirm` once the extra step is done), or `use_stripe_sdk` (finish it
/// with Stripe.js and the payment's `clientSecret`; the webhook, or a confirm, brings the result).
public enum PaymentNextAction: String, Codable, Sendable, CaseIterable {
    case confirmPayment = "confirm_payment", useStripeSDK = "use_stripe_sdk"
}

/// A payment as its requester learns of it; `nextAction` (with `clientSecret` for Stripe.js) says what a
/// client must do for `requires_action`.
public struct PaymentSummary: Codable, Sendable, Equatable, ResponseBody {
    public var id: String
    public var status: String
    public var amountCents: Int
    public var currency: String
    public var nextAction: PaymentNextAction?
    public var clientSecret: String?

    public init(id: String, status: String, amountCents: Int, currency: String, nextAction: PaymentNextAction? = nil, clientSecret: String? = nil) {
        self.id = id
        self.status = status
        self.amountCents = amountCents
        self.currency = currency
        self.nextAction = nextAction
        self.clientSecret = clientSecret
    }
}

/// contracts → payments: fund a milestone or pay an invoice, idempotent on a key derived from it.
public struct CreatePaymentCall: ServiceCall {
    public typealias Answer = PaymentSummary
    public static let service = ServiceName.payments
    public var method: String { "POST" }
    public var path: String { "/payments" }
    public var body: CreatePaymentBody?
    public var idempotencyKey: String?

    public init(_ body: CreatePaymentBody, idempotencyKey: String) {
        self.body = body
        self.idempotencyKey = idempotencyKey
    }
}

/// What a release moved: gross, the platform's fee, the payee's net.
public struct ReleaseSummary: Codable, Sendable, Equatable, ResponseBody {
    public var paymentId: String
    public var grossCents: Int
    public var feeCents: Int
    public var netCents: Int
    public var currency: String

    public init(paymentId: String, grossCents: Int, feeCents: Int, netCents: Int, currency: String) {
        self.paymentId = paymentId
        self.grossCents = grossCents
        self.feeCents = feeCents
        self.netCents = netCents
        self.currency = currency
    }
}

/// contracts → payments: release a milestone's escrow once it is approved.
public struct ReleasePaymentCall: ServiceCall {
    public typealias Answer = ReleaseSummary
    public static let service = ServiceName.payments
    public var paymentId: String
    public var method: String { "POST" }
    public var path: String { "/payments/\(paymentId)/release" }
    public var body: Empty? { Empty() }
    public var idempotencyKey: String?

    public init(paymentId: String, idempotencyKey: String) {
        self.paymentId = paymentId
        self.idempotencyKey = idempotencyKey
    }
}

/// The body of `POST /refunds`: all that is left of a payment, or `amountCents` of it.
public struct CreateRefundBody: Codable, Sendable, Equatable {
    public var paymentId: String
    public var amountCents: Int?
    public var reason: String?

    public init(paymentId: String, amountCents: Int? = nil, reason: String? = nil) {
        self.paymentId = paymentId
        self.amountCents = amountCents
        self.reason = reason
    }
}

/// A refund as its requester learns of it.
public struct RefundSummary: Codable, Sendable, Equatable, ResponseBody {
    public var id: String
    public var paymentId: String
    public var amountCents: Int
    public var currency: String
    public var status: String

    public init(id: String, paymentId: String, amountCents: Int, currency: String, status: String) {
        self.id = id
        self.paymentId = paymentId
        self.amountCents = amountCents
        self.currency = currency
        self.status = status
    }
}

/// contracts → payments: refund a cancelled contract's escrow.
public struct CreateRefundCall: ServiceCall {
    public typealias Answer = RefundSummary
    public static let service = ServiceName.payments
    public var method: String { "POST" }
    public var path: String { "/refunds" }
    public var body: CreateRefundBody?
    public var idempotencyKey: String?

    public init(_ body: CreateRefundBody, idempotencyKey: String) {
        self.body = body
        self.idempotencyKey = idempotencyKey
    }
}

/// marketplace → users (the backfill of its copy): one page of visible VA profiles, oldest first.
public struct ListVAProfilesCall: ServiceCall {
    public typealias Answer = Page<VAProfileSnapshot>
    public static let service = ServiceName.users
    public var cursor: String?
    public var path: String { "/profiles/va?sort=recent&limit=100" + (cursor?.addingPercentEncoding(withAllowedCharacters: .alphanumerics).map { "&cursor=\($0)" } ?? "") }

    public init(cursor: String?) {
        self.cursor = cursor
    }
}

/// marketplace → users (the backfill of its copy): one page of visible company profiles.
public struct ListCompanyProfilesCall: ServiceCall {
    public typealias Answer = Page<CompanySnapshot>
    public static let service = ServiceName.users
    public var cursor: String?
    public var path: String { "/profiles/company?sort=recent&limit=100" + (cursor?.addingPercentEncoding(withAllowedCharacters: .alphanumerics).map { "&cursor=\($0)" } ?? "") }

    public init(cursor: String?) {
        self.cursor = cursor
    }
}

/// A file as the file service shows it to its owner (`GET /files/{id}`): what dispute evidence needs.
public struct FileSummary: Codable, Sendable, Equatable {
    public var id: String
    public var ownerUserId: String
    public var filename: String
    public var contentType: String
    public var size: Int
    /// `private` or `public`.
    public var visibility: String
    /// `pending` or `ready`.
    public var status: String
    public var sharedWith: [String]

    public init(id: String, ownerUserId: String, filename: String, contentType: String, size: Int, visibility: String, status: String, sharedWith: [String]) {
        self.id = id
        self.ownerUserId = ownerUserId
        self.filename = filename
        self.contentType = contentType
        self.size = size
        self.visibility = visibility
        self.status = status
        self.sharedWith = sharedWith
    }
}

/// payments → files (dispute evidence), as the party who offers it: one of their files.
public struct GetFileCall: ServiceCall {
    public typealias Answer = FileSummary
    public static let service = ServiceName.files
    public var fileId: String
    public var path: String { "/files/\(fileId)" }

    public init(fileId: String) {
        self.fileId = fileId
    }
}

/// The body of `PATCH /files/{id}` that adds readers to a private file.
public struct ShareFileBody: Codable, Sendable {
    public var shareWith: [String]

    public init(shareWith: [String]) {
        self.shareWith = shareWith
    }
}

/// payments → files (dispute evidence), as its owner: the other party may read the file too (admins
/// always may).
public struct ShareFileCall: ServiceCall {
    public typealias Answer = FileSummary
    public static let service = ServiceName.files
    public var fileId: String
    public var body: ShareFileBody?
    public var method: String { "PATCH" }
    public var path: String { "/files/\(fileId)" }

    public init(fileId: String, with users: [String]) {
        self.fileId = fileId
        body = ShareFileBody(shareWith: users)
    }
}
