import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import SQLKit

/// `DisputeOpened` makes an active contract `disputed`; `DisputeResolved` moves it on as the resolution
/// implies: a release to the VA back to `active`, a refund to the company to `cancelled` (publishing
/// `ContractCancelled`), a split to `completed` (publishing `ContractCompleted`). Once per event (the kit's inbox); an event that does not fit the contract's state (a
/// repeat, or one for a contract already moved on) changes nothing.
struct DisputeEvents: EventConsumer {
    enum Change: EventChoice {
        case opened(DisputeOpened)
        case resolved(DisputeResolved)

        static let choices: [any Event.Type] = [DisputeOpened.self, DisputeResolved.self]

        init(_ event: any Event) throws {
            switch event {
            case let event as DisputeOpened: self = .opened(event)
            case let event as DisputeResolved: self = .resolved(event)
            default: throw UnexpectedEventType(type: type(of: event).type, expected: Self.choices.map { $0.type })
            }
        }
    }

    func handle(_ event: EventEnvelope<Change>, context: FunctionContext) async throws {
        let now = context.now.iso
        let (contractId, action): (String, ContractStatus.Action) = switch event.data {
        case .opened(let opened): (opened.contractId, .dispute)
        case .resolved(let resolved): (resolved.contractId, Self.action(after: resolved.resolution))
        }
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            guard var contract = try await ContractRecord.find(contractId, on: sql, forUpdate: true), let next = try? contract.status.after(action) else { return }
            contract.status = next
            contract.updatedAt = now
            try await contract.update(on: sql)
            // A resolution that ends the contract is announced as any end is.
            switch next {
            case .completed:
                try await context.publish(ContractCompleted(
                    contractId: contract.id, title: contract.title, companyUserId: contract.companyUserId, vaUserId: contract.vaUserId,
                    totalPaidCents: contract.totalPaidCents, currency: contract.currency
                ), on: sql)
            case .cancelled:
                try await context.publish(ContractCancelled(
                    contractId: contract.id, title: contract.title, companyUserId: contract.companyUserId, vaUserId: contract.vaUserId,
                    cancelledBy: nil, reason: "The dispute was resolved with a refund."
                ), on: sql)
            default: break
            }
        }
    }

    static func action(after resolution: DisputeResolution) -> ContractStatus.Action {
        switch resolution {
        case .release: .resumeAfterRelease
        case .refund: .cancelAfterRefund
        case .split: .completeAfterSplit
        }
    }
}
