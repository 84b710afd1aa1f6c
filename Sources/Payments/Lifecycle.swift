import Blytz
import BlytzServices

/// A payment's lifecycle. It starts `pending` (recorded, not yet charged); the provider's answer makes it
/// `requires_action` (the payer must finish an extra step, such as 3-D Secure), `processing` (the provider
/// settles later), `succeeded` or `failed`. Refunds make a succeeded payment `partially_refunded`, then
/// `refunded` when nothing is left. `failed` and `refunded` are final; a status update that would move a
/// payment backwards (a late webhook) is refused, and ignored by the webhook route.
enum PaymentStatus: String, Codable, Sendable, CaseIterable {
    case pending, requiresAction = "requires_action", processing, succeeded, failed
    case partiallyRefunded = "partially_refunded", refunded

    enum Change: String, Sendable, CaseIterable {
        case requireAction = "waiting for an extra step", process = "processing", succeed = "succeeded", fail = "failed"
        case refundPart = "partly refunded", refundAll = "refunded"
    }

    func after(_ change: Change) throws(IllegalTransition) -> PaymentStatus {
        switch (self, change) {
        case (.pending, .requireAction), (.processing, .requireAction): .requiresAction
        case (.pending, .process), (.requiresAction, .process): .processing
        case (.pending, .succeed), (.requiresAction, .succeed), (.processing, .succeed): .succeeded
        case (.pending, .fail), (.requiresAction, .fail), (.processing, .fail): .failed
        case (.succeeded, .refundPart), (.partiallyRefunded, .refundPart): .partiallyRefunded
        case (.succeeded, .refundAll), (.partiallyRefunded, .refundAll): .refunded
        default: throw IllegalTransition(what: "payment", state: rawValue, action: change.rawValue)
        }
    }

    /// Whether the money was taken from the payer (and not all given back).
    var charged: Bool { self == .succeeded || self == .partiallyRefunded }
    /// Whether the provider's answer is still to come.
    var open: Bool { self == .pending || self == .requiresAction || self == .processing }
}

/// A refund's lifecycle: `pending` while the provider is asked, then `succeeded` or `failed` (what it
/// reserved of the payment is then free again).
enum RefundStatus: String, Codable, Sendable, CaseIterable {
    case pending, succeeded, failed

    enum Change: String, Sendable, CaseIterable {
        case succeed = "succeeded", fail = "failed"
    }

    func after(_ change: Change) throws(IllegalTransition) -> RefundStatus {
        switch (self, change) {
        case (.pending, .succeed): .succeeded
        case (.pending, .fail): .failed
        default: throw IllegalTransition(what: "refund", state: rawValue, action: change.rawValue)
        }
    }
}

/// A transfer of a payee's earnings to their payout account: `pending`, then `paid` or `failed` (the
/// money is payable to them again).
enum TransferStatus: String, Codable, Sendable, CaseIterable {
    case pending, paid, failed

    enum Change: String, Sendable, CaseIterable {
        case pay = "paid", fail = "failed"
    }

    func after(_ change: Change) throws(IllegalTransition) -> TransferStatus {
        switch (self, change) {
        case (.pending, .pay): .paid
        case (.pending, .fail): .failed
        default: throw IllegalTransition(what: "transfer", state: rawValue, action: change.rawValue)
        }
    }
}

/// A dispute's lifecycle: a party opens it (`open`: the contract's escrow is frozen); an admin takes it
/// `under_review` and resolves it (`resolved`, final), or resolves it at once. Either party adds evidence
/// until it is resolved.
enum DisputeStatus: String, Codable, Sendable, CaseIterable {
    case open, underReview = "under_review", resolved

    enum Change: String, Sendable, CaseIterable {
        case review = "taken under review", addEvidence = "given evidence", resolve = "resolved"
    }

    func after(_ change: Change) throws(IllegalTransition) -> DisputeStatus {
        switch (self, change) {
        case (.open, .review): .underReview
        case (.open, .addEvidence), (.underReview, .addEvidence): self
        case (.open, .resolve), (.underReview, .resolve): .resolved
        default: throw IllegalTransition(what: "dispute", state: rawValue, action: change.rawValue)
        }
    }
}

/// The copy of a contract's state this service keeps (from `ContractSigned`, `ContractCompleted`,
/// `ContractCancelled`): only forward, so an event arriving late never moves it back.
enum ContractState: String, Codable, Sendable, CaseIterable {
    case active, completed, cancelled

    var rank: Int { self == .active ? 0 : 1 }
}
