import Blytz

/// Every event type of the API contract, in API.md's order; `blytz validate` refuses a subscription to
/// any other.
public enum EventCatalog {
    public static let all: [any Event.Type] = [
        UserCreated.self, UserUpdated.self, UserDeleted.self, ProfileUpdated.self, PasswordResetRequested.self,
        JobPosted.self, ProposalSubmitted.self, ProposalAccepted.self, MatchCreated.self,
        ContractSigned.self, ContractCompleted.self, ContractCancelled.self, MilestoneApproved.self, InvoiceIssued.self,
        PaymentCompleted.self, PaymentFailed.self, EscrowReleased.self, RefundIssued.self,
        ReviewPosted.self, DisputeOpened.self, DisputeResolved.self, FileUploaded.self,
    ]

    /// The names of `all`.
    public static var types: [EventType] { all.map { $0.type } }
}
