import Blytz
import BlytzServices

/// A contract's lifecycle. It starts `pending`; editing is the company's while pending, and an edit clears
/// any signature already given (both parties sign what they agree to). Both signatures make it `active`.
/// An active contract is completed by the company, or cancelled by either party (a pending one too); a
/// party opening a dispute makes it `disputed`, and the dispute's resolution moves it on: a release to the
/// VA back to `active`, a refund to the company to `cancelled`, a split to `completed`.
enum ContractStatus: String, Codable, Sendable, CaseIterable {
    case pending, active, completed, cancelled, disputed

    enum Action: String, Sendable, CaseIterable {
        case edit = "edited", sign = "signed", activate = "activated", complete = "completed", cancel = "cancelled", dispute = "disputed"
        case resumeAfterRelease = "resumed after a release", cancelAfterRefund = "cancelled after a refund", completeAfterSplit = "completed after a split"
    }

    func after(_ action: Action) throws(IllegalTransition) -> ContractStatus {
        switch (self, action) {
        case (.pending, .edit), (.pending, .sign): .pending
        case (.pending, .activate): .active
        case (.active, .complete): .completed
        case (.pending, .cancel), (.active, .cancel): .cancelled
        case (.active, .dispute): .disputed
        case (.disputed, .resumeAfterRelease): .active
        case (.disputed, .cancelAfterRefund): .cancelled
        case (.disputed, .completeAfterSplit): .completed
        default: throw IllegalTransition(what: "contract", state: rawValue, action: action.rawValue)
        }
    }
}

/// A milestone's lifecycle: the company edits or deletes it while `pending` and funds it (`funding` while
/// the payments service charges; `funded` once the charge succeeded, back to `pending` when it failed);
/// the VA submits funded work; the company approves it (its escrow is released: `paid` once released)
/// or rejects it, which sends it back to `funded` for another submission. Cancelling the contract refunds
/// the escrow of a funded, submitted or rejected milestone: `refunded`.
enum MilestoneStatus: String, Codable, Sendable, CaseIterable {
    case pending, funding, funded, submitted, approved, paid, rejected, refunded

    enum Action: String, Sendable, CaseIterable {
        case edit = "edited", delete = "deleted", fund = "funded", charged = "charged", chargeFailed = "left unfunded", submit = "submitted"
        case approve = "approved", reject = "rejected", release = "released", refund = "refunded"
    }

    func after(_ action: Action) throws(IllegalTransition) -> MilestoneStatus {
        switch (self, action) {
        case (.pending, .edit), (.pending, .delete): .pending
        case (.pending, .fund): .funding
        case (.funding, .charged): .funded
        case (.funding, .chargeFailed): .pending
        case (.funded, .submit), (.rejected, .submit): .submitted
        case (.submitted, .approve): .approved
        case (.submitted, .reject): .rejected
        case (.approved, .release): .paid
        case (.funded, .refund), (.submitted, .refund), (.rejected, .refund): .refunded
        default: throw IllegalTransition(what: "milestone", state: rawValue, action: action.rawValue)
        }
    }

    /// Whether money for it is held (charged, not yet released).
    var holdsEscrow: Bool { [.funding, .funded, .submitted, .rejected, .approved].contains(self) }
}

/// A timesheet entry's lifecycle: the VA edits or deletes it while `pending`; the company approves or
/// rejects it.
enum TimesheetStatus: String, Codable, Sendable, CaseIterable {
    case pending, approved, rejected

    enum Action: String, Sendable, CaseIterable {
        case edit = "edited", delete = "deleted", approve = "approved", reject = "rejected"
    }

    func after(_ action: Action) throws(IllegalTransition) -> TimesheetStatus {
        switch (self, action) {
        case (.pending, .edit), (.pending, .delete): .pending
        case (.pending, .approve): .approved
        case (.pending, .reject): .rejected
        default: throw IllegalTransition(what: "timesheet", state: rawValue, action: action.rawValue)
        }
    }
}

/// An invoice's lifecycle: `issued`; `paid` by the company (through the payments service), `overdue`
/// past its due date (still payable), `cancelled` by the company while unpaid (its work can be billed again).
enum InvoiceStatus: String, Codable, Sendable, CaseIterable {
    case issued, paid, overdue, cancelled

    enum Action: String, Sendable, CaseIterable {
        case pay = "paid", lapse = "overdue", cancel = "cancelled"
    }

    func after(_ action: Action) throws(IllegalTransition) -> InvoiceStatus {
        switch (self, action) {
        case (.issued, .pay), (.overdue, .pay): .paid
        case (.issued, .lapse): .overdue
        case (.issued, .cancel), (.overdue, .cancel): .cancelled
        default: throw IllegalTransition(what: "invoice", state: rawValue, action: action.rawValue)
        }
    }
}
