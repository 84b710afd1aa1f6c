import Blytz
import BlytzServices
import Testing

@testable import Marketplace

/// Every transition of both lifecycles, legal and not.
@Suite struct LifecycleTests {
    @Test func postings() {
        let legal: [PostingStatus: [PostingStatus.Action: PostingStatus]] = [
            .draft: [.edit: .draft, .publish: .open, .close: .closed],
            .open: [.edit: .open, .close: .closed, .fill: .filled],
            .closed: [:],
            .filled: [:],
        ]
        for state in PostingStatus.allCases {
            for action in PostingStatus.Action.allCases {
                if let expected = legal[state]?[action] {
                    #expect((try? state.after(action)) == expected, "\(state) \(action)")
                } else {
                    #expect(throws: IllegalTransition(what: "posting", state: state.rawValue, action: action.rawValue)) { try state.after(action) }
                }
            }
        }
    }

    @Test func proposals() {
        for state in ProposalStatus.allCases {
            for action in ProposalStatus.Action.allCases {
                let expected: ProposalStatus? = state == .pending
                    ? [.edit: .pending, .withdraw: .withdrawn, .reject: .rejected, .accept: .accepted][action] : nil
                if let expected {
                    #expect((try? state.after(action)) == expected, "\(state) \(action)")
                } else {
                    #expect(throws: IllegalTransition(what: "proposal", state: state.rawValue, action: action.rawValue)) { try state.after(action) }
                }
            }
        }
        // The refusal names the state it is in.
        #expect(IllegalTransition(what: "proposal", state: "rejected", action: "withdrawn").problem.detail == "The proposal is rejected; it cannot be withdrawn.")
        #expect(IllegalTransition(what: "proposal", state: "rejected", action: "withdrawn").problem.status == 409)
    }
}
