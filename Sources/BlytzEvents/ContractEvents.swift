import Blytz

/// The parties of a contract, which every contract event names.
public struct ContractParties: Codable, Sendable, Equatable {
    public var companyUserId: String
    public var vaUserId: String

    public init(companyUserId: String, vaUserId: String) {
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
    }
}

/// Both parties signed: the contract is active.
public struct ContractSigned: Event {
    public static let type: EventType = "ContractSigned"
    public var contractId: String
    public var title: String?
    public var companyUserId: String
    public var vaUserId: String
    public var contractType: String?
    public var amountCents: Int?
    public var currency: String?
    public var subject: String { contractId }

    public init(contractId: String, title: String?, companyUserId: String, vaUserId: String, contractType: String? = nil, amountCents: Int? = nil, currency: String? = nil) {
        self.contractId = contractId
        self.title = title
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
        self.contractType = contractType
        self.amountCents = amountCents
        self.currency = currency
    }
}

/// A contract was completed.
public struct ContractCompleted: Event {
    public static let type: EventType = "ContractCompleted"
    public var contractId: String
    public var title: String?
    public var companyUserId: String
    public var vaUserId: String
    public var totalPaidCents: Int?
    public var currency: String?
    public var subject: String { contractId }

    public init(contractId: String, title: String?, companyUserId: String, vaUserId: String, totalPaidCents: Int? = nil, currency: String? = nil) {
        self.contractId = contractId
        self.title = title
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
        self.totalPaidCents = totalPaidCents
        self.currency = currency
    }
}

/// A contract was cancelled, by whom and why.
public struct ContractCancelled: Event {
    public static let type: EventType = "ContractCancelled"
    public var contractId: String
    public var title: String?
    public var companyUserId: String
    public var vaUserId: String
    public var cancelledBy: String?
    public var reason: String?
    public var subject: String { contractId }

    public init(contractId: String, title: String?, companyUserId: String, vaUserId: String, cancelledBy: String?, reason: String?) {
        self.contractId = contractId
        self.title = title
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
        self.cancelledBy = cancelledBy
        self.reason = reason
    }
}

/// The company approved a milestone's work; its escrow is being released.
public struct MilestoneApproved: Event {
    public static let type: EventType = "MilestoneApproved"
    public var contractId: String
    public var milestoneId: String
    public var title: String?
    public var amountCents: Int
    public var currency: String
    public var companyUserId: String
    public var vaUserId: String
    public var subject: String { milestoneId }

    public init(contractId: String, milestoneId: String, title: String?, amountCents: Int, currency: String, companyUserId: String, vaUserId: String) {
        self.contractId = contractId
        self.milestoneId = milestoneId
        self.title = title
        self.amountCents = amountCents
        self.currency = currency
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
    }
}

/// An invoice was issued to the company.
public struct InvoiceIssued: Event {
    public static let type: EventType = "InvoiceIssued"
    public var invoiceId: String
    public var contractId: String
    public var number: String
    public var totalCents: Int
    /// What is left to pay (lines already paid from escrow are not).
    public var dueCents: Int
    public var currency: String
    public var dueDate: String
    public var companyUserId: String
    public var vaUserId: String
    public var subject: String { invoiceId }

    public init(invoiceId: String, contractId: String, number: String, totalCents: Int, dueCents: Int, currency: String, dueDate: String, companyUserId: String, vaUserId: String) {
        self.invoiceId = invoiceId
        self.contractId = contractId
        self.number = number
        self.totalCents = totalCents
        self.dueCents = dueCents
        self.currency = currency
        self.dueDate = dueDate
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
    }
}
