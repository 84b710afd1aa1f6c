import BlytzServices
import Testing

@testable import Payments

/// Every status, every change: the allowed ones land where the lifecycle says, the rest are refused naming the state.
@Suite struct LifecycleTests {
    @Test func paymentTransitions() throws {
        let allowed: [PaymentStatus: [PaymentStatus.Change: PaymentStatus]] = [
            .pending: [.requireAction: .requiresAction, .process: .processing, .succeed: .succeeded, .fail: .failed],
            .requiresAction: [.process: .processing, .succeed: .succeeded, .fail: .failed],
            .processing: [.requireAction: .requiresAction, .succeed: .succeeded, .fail: .failed],
            .succeeded: [.refundPart: .partiallyRefunded, .refundAll: .refunded],
            .partiallyRefunded: [.refundPart: .partiallyRefunded, .refundAll: .refunded],
            .failed: [:],
            .refunded: [:],
        ]
        for status in PaymentStatus.allCases {
            for change in PaymentStatus.Change.allCases {
                if let expected = allowed[status]?[change] {
                    #expect(try status.after(change) == expected, "\(status) \(change)")
                } else {
                    #expect(throws: IllegalTransition(what: "payment", state: status.rawValue, action: change.rawValue)) { try status.after(change) }
                }
            }
        }
    }

    @Test func refundAndTransferTransitions() throws {
        for status in RefundStatus.allCases {
            for change in RefundStatus.Change.allCases {
                if status == .pending {
                    #expect(try status.after(change) == (change == .succeed ? .succeeded : .failed))
                } else {
                    #expect(throws: IllegalTransition.self) { try status.after(change) }
                }
            }
        }
        for status in TransferStatus.allCases {
            for change in TransferStatus.Change.allCases {
                if status == .pending {
                    #expect(try status.after(change) == (change == .pay ? .paid : .failed))
                } else {
                    #expect(throws: IllegalTransition.self) { try status.after(change) }
                }
            }
        }
    }

    @Test func feesRoundHalfUp() {
        #expect(Fee.share(1_005, basisPoints: 1_000) == 101)
        #expect(Fee.share(1_004, basisPoints: 1_000) == 100)
        #expect(Fee.share(5, basisPoints: 1_000) == 1)
        #expect(Fee.share(4, basisPoints: 1_000) == 0)
        #expect(Fee.proportion(of: 101, gross: 1_005, part: 1_005) == 101)
        #expect(Fee.proportion(of: 100, gross: 1_000, part: 5) == 1)
        #expect(Fee.proportion(of: 100, gross: 1_000, part: 4) == 0)
    }

    @Test func currencies() {
        #expect(Currency.minorDigits("USD") == 2 && Currency.minorDigits("JPY") == 0 && Currency.minorDigits("KWD") == 3)
        #expect(Currency.minorDigits("usd") == nil && Currency.minorDigits("XYZ") == nil)
        #expect(Currency.format(123_450, "USD") == "1,234.50 USD")
        #expect(Currency.format(1_500, "JPY") == "1,500 JPY")
        #expect(Currency.format(-5, "KWD") == "-0.005 KWD")
    }

    @Test func disputeTransitions() throws {
        let allowed: [DisputeStatus: [DisputeStatus.Change: DisputeStatus]] = [
            .open: [.review: .underReview, .addEvidence: .open, .resolve: .resolved],
            .underReview: [.addEvidence: .underReview, .resolve: .resolved],
            .resolved: [:],
        ]
        for status in DisputeStatus.allCases {
            for change in DisputeStatus.Change.allCases {
                if let expected = allowed[status]?[change] {
                    #expect(try status.after(change) == expected, "\(status) \(change)")
                } else {
                    #expect(throws: IllegalTransition(what: "dispute", state: status.rawValue, action: change.rawValue)) { try status.after(change) }
                }
            }
        }
    }

    /// The copy of a contract only moves forward: active, then completed or cancelled.
    @Test func contractCopiesOnlyMoveForward() {
        #expect(ContractState.active.rank < ContractState.completed.rank && ContractState.completed.rank == ContractState.cancelled.rank)
    }
}
