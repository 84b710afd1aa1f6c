import Blytz

/// A charge succeeded: the payer paid `amountCents`. For a milestone the money is held in escrow (`escrow`)
/// and nobody is credited yet; `EscrowReleased` credits the payee.
public struct PaymentCompleted: Event {
    public static let type: EventType = "PaymentCompleted"
    public var paymentId: String
    public var payerUserId: String
    public var payeeUserId: String
    public var contractId: String?
    public var milestoneId: String?
    public var invoiceId: String?
    public var amountCents: Int
    public var currency: String
    public var escrow: Bool
    public var subject: String { paymentId }

    public init(paymentId: String, payerUserId: String, payeeUserId: String, contractId: String?, milestoneId: String?, invoiceId: String?, amountCents: Int, currency: String, escrow: Bool) {
        self.paymentId = paymentId
        self.payerUserId = payerUserId
        self.payeeUserId = payeeUserId
        self.contractId = contractId
        self.milestoneId = milestoneId
        self.invoiceId = invoiceId
        self.amountCents = amountCents
        self.currency = currency
        self.escrow = escrow
    }
}

/// A charge failed; nothing was taken.
public struct PaymentFailed: Event {
    public static let type: EventType = "PaymentFailed"
    public var paymentId: String
    public var payerUserId: String
    public var payeeUserId: String?
    public var contractId: String?
    public var milestoneId: String?
    public var invoiceId: String?
    public var amountCents: Int
    public var currency: String
    public var reason: String?
    public var subject: String { paymentId }

    public init(paymentId: String, payerUserId: String, payeeUserId: String?, contractId: String?, milestoneId: String?, invoiceId: String?, amountCents: Int, currency: String, reason: String?) {
        self.paymentId = paymentId
        self.payerUserId = payerUserId
        self.payeeUserId = payeeUserId
        self.contractId = contractId
        self.milestoneId = milestoneId
        self.invoiceId = invoiceId
        self.amountCents = amountCents
        self.currency = currency
        self.reason = reason
    }
}

/// Held escrow went to the payee: `grossCents` less the platform's `feeCents` is the payee's `netCents`.
/// The only event that credits a payee.
public struct EscrowReleased: Event {
    public static let type: EventType = "EscrowReleased"
    public var paymentId: String
    public var contractId: String?
    public var milestoneId: String?
    public var payerUserId: String?
    public var payeeUserId: String
    public var grossCents: Int
    public var feeCents: Int
    public var netCents: Int
    public var currency: String
    public var subject: String { paymentId }

    public init(paymentId: String, contractId: String?, milestoneId: String?, payerUserId: String?, payeeUserId: String, grossCents: Int, feeCents: Int, netCents: Int, currency: String) {
        self.paymentId = paymentId
        self.contractId = contractId
        self.milestoneId = milestoneId
        self.payerUserId = payerUserId
        self.payeeUserId = payeeUserId
        self.grossCents = grossCents
        self.feeCents = feeCents
        self.netCents = netCents
        self.currency = currency
    }
}

/// Money went back to the payer: `amountCents` returns to them; `payeeDebitCents` is what it takes back
/// from the payee's credited earnings (zero when it came out of escrow that was never released).
public struct RefundIssued: Event {
    public static let type: EventType = "RefundIssued"
    public var refundId: String
    public var paymentId: String
    public var contractId: String?
    public var payerUserId: String
    public var payeeUserId: String?
    public var amountCents: Int
    public var payeeDebitCents: Int
    public var currency: String
    public var subject: String { refundId }

    public init(refundId: String, paymentId: String, contractId: String?, payerUserId: String, payeeUserId: String?, amountCents: Int, payeeDebitCents: Int, currency: String) {
        self.refundId = refundId
        self.paymentId = paymentId
        self.contractId = contractId
        self.payerUserId = payerUserId
        self.payeeUserId = payeeUserId
        self.amountCents = amountCents
        self.payeeDebitCents = payeeDebitCents
        self.currency = currency
    }
}

/// A party of a completed contract reviewed the other.
public struct ReviewPosted: Event {
    public static let type: EventType = "ReviewPosted"
    public var reviewId: String
    public var contractId: String
    public var reviewerUserId: String
    public var targetUserId: String
    /// 1 to 5.
    public var rating: Int
    public var subject: String { reviewId }

    public init(reviewId: String, contractId: String, reviewerUserId: String, targetUserId: String, rating: Int) {
        self.reviewId = reviewId
        self.contractId = contractId
        self.reviewerUserId = reviewerUserId
        self.targetUserId = targetUserId
        self.rating = rating
    }
}

/// How an admin settled a dispute.
public enum DisputeResolution: String, Codable, Sendable, CaseIterable {
    case release
    case refund
    case split
}

/// A party opened a dispute: the contract is disputed and its escrow frozen.
public struct DisputeOpened: Event {
    public static let type: EventType = "DisputeOpened"
    public var disputeId: String
    public var contractId: String
    public var paymentId: String?
    public var openedBy: String
    public var companyUserId: String
    public var vaUserId: String
    public var reason: String?
    public var subject: String { disputeId }

    public init(disputeId: String, contractId: String, paymentId: String?, openedBy: String, companyUserId: String, vaUserId: String, reason: String?) {
        self.disputeId = disputeId
        self.contractId = contractId
        self.paymentId = paymentId
        self.openedBy = openedBy
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
        self.reason = reason
    }
}

/// An admin resolved a dispute: what went to the payee and back to the payer.
public struct DisputeResolved: Event {
    public static let type: EventType = "DisputeResolved"
    public var disputeId: String
    public var contractId: String
    public var resolution: DisputeResolution
    public var releasedCents: Int
    public var refundedCents: Int
    public var currency: String?
    public var companyUserId: String
    public var vaUserId: String
    public var subject: String { disputeId }

    public init(disputeId: String, contractId: String, resolution: DisputeResolution, releasedCents: Int, refundedCents: Int, currency: String?, companyUserId: String, vaUserId: String) {
        self.disputeId = disputeId
        self.contractId = contractId
        self.resolution = resolution
        self.releasedCents = releasedCents
        self.refundedCents = refundedCents
        self.currency = currency
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
    }
}
