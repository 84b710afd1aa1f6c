import Blytz
import BlytzServices

/// A job posting's lifecycle: draft → open → closed or filled. Drafts and open postings may be edited.
enum PostingStatus: String, Codable, Sendable, CaseIterable {
    case draft, open, closed, filled

    enum Action: String, Sendable, CaseIterable {
        case edit = "edited", publish = "published", close = "closed", fill = "filled"
    }

    func after(_ action: Action) throws(IllegalTransition) -> PostingStatus {
        switch (self, action) {
        case (.draft, .edit), (.open, .edit): self
        case (.draft, .publish): .open
        case (.draft, .close), (.open, .close): .closed
        case (.open, .fill): .filled
        default: throw IllegalTransition(what: "posting", state: rawValue, action: action.rawValue)
        }
    }
}

/// A proposal's lifecycle: pending → withdrawn (by its VA), rejected or accepted (by the job's owner).
/// Only a pending proposal may be edited.
enum ProposalStatus: String, Codable, Sendable, CaseIterable {
    case pending, withdrawn, rejected, accepted

    enum Action: String, Sendable, CaseIterable {
        case edit = "edited", withdraw = "withdrawn", reject = "rejected", accept = "accepted"
    }

    func after(_ action: Action) throws(IllegalTransition) -> ProposalStatus {
        switch (self, action) {
        case (.pending, .edit): .pending
        case (.pending, .withdraw): .withdrawn
        case (.pending, .reject): .rejected
        case (.pending, .accept): .accepted
        default: throw IllegalTransition(what: "proposal", state: rawValue, action: action.rawValue)
        }
    }
}

/// A match's lifecycle: active until either party archives it.
enum MatchStatus: String, Codable, Sendable, CaseIterable {
    case active, archived

    enum Action: String, Sendable, CaseIterable {
        case archive = "archived"
    }

    func after(_ action: Action) throws(IllegalTransition) -> MatchStatus {
        switch (self, action) {
        case (.active, .archive): .archived
        default: throw IllegalTransition(what: "match", state: rawValue, action: action.rawValue)
        }
    }
}
