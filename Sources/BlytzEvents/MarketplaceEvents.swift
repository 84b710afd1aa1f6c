import Blytz

/// A posting went from draft to open (not on a draft save).
public struct JobPosted: Event {
    public static let type: EventType = "JobPosted"
    public var jobPostingId: String
    public var companyUserId: String
    public var title: String
    public var category: String?
    public var skillsRequired: [String]
    public var jobType: String
    public var budgetCents: Int?
    public var currency: String?
    public var subject: String { jobPostingId }

    public init(jobPostingId: String, companyUserId: String, title: String, category: String?, skillsRequired: [String], jobType: String, budgetCents: Int?, currency: String?) {
        self.jobPostingId = jobPostingId
        self.companyUserId = companyUserId
        self.title = title
        self.category = category
        self.skillsRequired = skillsRequired
        self.jobType = jobType
        self.budgetCents = budgetCents
        self.currency = currency
    }
}

/// A VA sent a proposal for a job.
public struct ProposalSubmitted: Event {
    public static let type: EventType = "ProposalSubmitted"
    public var proposalId: String
    public var jobPostingId: String
    public var jobTitle: String?
    public var companyUserId: String
    public var vaUserId: String
    public var bidCents: Int?
    public var currency: String?
    public var subject: String { proposalId }

    public init(proposalId: String, jobPostingId: String, jobTitle: String?, companyUserId: String, vaUserId: String, bidCents: Int? = nil, currency: String? = nil) {
        self.proposalId = proposalId
        self.jobPostingId = jobPostingId
        self.jobTitle = jobTitle
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
        self.bidCents = bidCents
        self.currency = currency
    }
}

/// A company accepted a proposal: the hire (`jobId`) and, once created, its contract.
public struct ProposalAccepted: Event {
    public static let type: EventType = "ProposalAccepted"
    public var proposalId: String
    public var jobPostingId: String
    public var jobId: String?
    public var jobTitle: String?
    public var contractId: String?
    public var companyUserId: String
    public var vaUserId: String
    public var subject: String { proposalId }

    public init(proposalId: String, jobPostingId: String, jobId: String?, jobTitle: String?, contractId: String?, companyUserId: String, vaUserId: String) {
        self.proposalId = proposalId
        self.jobPostingId = jobPostingId
        self.jobId = jobId
        self.jobTitle = jobTitle
        self.contractId = contractId
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
    }
}

/// Both sides liked each other for a job.
public struct MatchCreated: Event {
    public static let type: EventType = "MatchCreated"
    public var matchId: String
    public var jobPostingId: String
    public var jobTitle: String?
    public var companyUserId: String
    public var vaUserId: String
    public var score: Double?
    public var subject: String { matchId }

    public init(matchId: String, jobPostingId: String, jobTitle: String?, companyUserId: String, vaUserId: String, score: Double? = nil) {
        self.matchId = matchId
        self.jobPostingId = jobPostingId
        self.jobTitle = jobTitle
        self.companyUserId = companyUserId
        self.vaUserId = vaUserId
        self.score = score
    }
}
