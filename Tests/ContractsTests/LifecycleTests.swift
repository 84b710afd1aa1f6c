import Blytz
import BlytzServices
import Testing

@testable import Contracts

/// Every transition of the four lifecycles, legal and not, against tables written out here.
@Suite struct LifecycleTests {
    static func check<S: CaseIterable & Equatable & RawRepresentable, A: CaseIterable & RawRepresentable>(
        _ what: String, _ legal: [S: [A: S]], after: (S, A) throws(IllegalTransition) -> S
    ) where S.RawValue == String, A.RawValue == String, S: Hashable, A: Hashable {
        for state in S.allCases {
            for action in A.allCases {
                if let expected = legal[state]?[action] {
                    #expect((try? after(state, action)) == expected, "\(state) \(action)")
                } else {
                    #expect(throws: IllegalTransition(what: what, state: state.rawValue, action: action.rawValue)) { try after(state, action) }
                }
            }
        }
    }

    @Test func contracts() {
        Self.check("contract", [
            .pending: [.edit: .pending, .sign: .pending, .activate: .active, .cancel: .cancelled],
            .active: [.complete: .completed, .cancel: .cancelled, .dispute: .disputed],
            .disputed: [.resumeAfterRelease: .active, .cancelAfterRefund: .cancelled, .completeAfterSplit: .completed],
        ] as [ContractStatus: [ContractStatus.Action: ContractStatus]]) { state, action throws(IllegalTransition) in try state.after(action) }
    }

    @Test func milestones() {
        Self.check("milestone", [
            .pending: [.edit: .pending, .delete: .pending, .fund: .funding],
            .funding: [.charged: .funded, .chargeFailed: .pending],
            .funded: [.submit: .submitted, .refund: .refunded],
            .submitted: [.approve: .approved, .reject: .rejected, .refund: .refunded],
            .rejected: [.submit: .submitted, .refund: .refunded],
            .approved: [.release: .paid],
        ] as [MilestoneStatus: [MilestoneStatus.Action: MilestoneStatus]]) { state, action throws(IllegalTransition) in try state.after(action) }
        #expect(MilestoneStatus.allCases.filter(\.holdsEscrow) == [.funding, .funded, .submitted, .approved, .rejected])
    }

    @Test func timesheets() {
        Self.check("timesheet", [
            .pending: [.edit: .pending, .delete: .pending, .approve: .approved, .reject: .rejected],
        ] as [TimesheetStatus: [TimesheetStatus.Action: TimesheetStatus]]) { state, action throws(IllegalTransition) in try state.after(action) }
    }

    @Test func invoices() {
        Self.check("invoice", [
            .issued: [.pay: .paid, .lapse: .overdue, .cancel: .cancelled],
            .overdue: [.pay: .paid, .cancel: .cancelled],
        ] as [InvoiceStatus: [InvoiceStatus.Action: InvoiceStatus]]) { state, action throws(IllegalTransition) in try state.after(action) }
    }

    @Test func invoiceAmountsRoundHalfUpOnce() {
        // 50 minutes at $25.00 an hour is 2083.33… cents: 2083. A 12.5% discount of 2083 is 260.375: 260;
        // 8.25% tax of 1823 is 150.3975: 150.
        let lines = [
            InvoiceLine(kind: .timesheet, itemId: "t", description: "", quantity: 50, unitCents: 2_500, amountCents: InvoiceMath.rounded(50 * 2_500, over: 60), paidCents: 0),
            InvoiceLine(kind: .milestone, itemId: "m", description: "", quantity: 1, unitCents: 10_000, amountCents: 10_000, paidCents: 10_000),
        ]
        #expect(lines[0].amountCents == 2_083)
        let totals = InvoiceMath.totals(lines: lines, taxBasisPoints: 825, discountBasisPoints: 1_250)
        #expect(totals.subtotal == 12_083 && totals.discount == 260 && totals.tax == 150 && totals.total == 11_973)
        #expect(totals.escrow == 10_000 && totals.due == 1_973)
        #expect(InvoiceMath.rounded(5, over: 10) == 1 && InvoiceMath.rounded(4, over: 10) == 0 && InvoiceMath.rounded(15, over: 10) == 2)
    }
}
