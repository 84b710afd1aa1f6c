import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import SQLKit

/// A row of `contracts`: a contract's parties and how far it got, as the contracts service announced it.
struct ContractCopy: Codable, Sendable, Equatable {
    var id: String
    var companyUserId: String
    var vaUserId: String
    var title: String?
    var status: ContractState
    var updatedAt: String

    static let table = "contracts"

    static func find(_ id: String, on sql: any SQLDatabase, forUpdate: Bool = false) async throws -> ContractCopy? {
        guard id.isUUID else { return nil }
        var query = sql.select().column("*").from(table).where("id", .equal, SQLBind(id.lowercased()))
        if forUpdate { query = query.for(.update) }
        return try await query.first(decoding: ContractCopy.self, keyDecodingStrategy: .snakeCase)
    }

    func isParty(_ userId: String) -> Bool { userId == companyUserId || userId == vaUserId }

    /// The other party of `userId`'s contract.
    func other(than userId: String) -> String { userId == companyUserId ? vaUserId : companyUserId }

    /// Records `state` for the contract, creating the copy; a state behind the one held changes nothing.
    static func record(_ id: String, company: String, va: String, title: String?, state: ContractState, now: String, on sql: any SQLDatabase) async throws {
        if let known = try await find(id, on: sql, forUpdate: true) {
            guard state.rank > known.status.rank else { return }
            try await sql.update(table).set("status", to: SQLBind(state.rawValue)).set("updated_at", to: SQLBind(now)).where("id", .equal, SQLBind(known.id)).run()
        } else {
            let copy = ContractCopy(id: id.lowercased(), companyUserId: company.lowercased(), vaUserId: va.lowercased(), title: title, status: state, updatedAt: now)
            try await sql.insert(into: table).model(copy, keyEncodingStrategy: .snakeCase, nilEncodingStrategy: .asNil).run()
        }
    }
}

/// `payments-on-contracts`: `ContractSigned` (active), `ContractCompleted` and `ContractCancelled` keep the
/// copy of contracts that reviews and disputes check. Once per event (the kit's inbox), in any order.
struct ContractEvents: EventConsumer {
    enum Change: EventChoice {
        case signed(ContractSigned)
        case completed(ContractCompleted)
        case cancelled(ContractCancelled)

        static let choices: [any Event.Type] = [ContractSigned.self, ContractCompleted.self, ContractCancelled.self]

        init(_ event: any Event) throws {
            switch event {
            case let event as ContractSigned: self = .signed(event)
            case let event as ContractCompleted: self = .completed(event)
            case let event as ContractCancelled: self = .cancelled(event)
            default: throw UnexpectedEventType(type: type(of: event).type, expected: Self.choices.map { $0.type })
            }
        }
    }

    func handle(_ event: EventEnvelope<Change>, context: FunctionContext) async throws {
        let now = context.now.iso
        let (id, company, va, title, state): (String, String, String, String?, ContractState) = switch event.data {
        case .signed(let e): (e.contractId, e.companyUserId, e.vaUserId, e.title, .active)
        case .completed(let e): (e.contractId, e.companyUserId, e.vaUserId, e.title, .completed)
        case .cancelled(let e): (e.contractId, e.companyUserId, e.vaUserId, e.title, .cancelled)
        }
        try await context.database.once(event: event.id, consumer: context.functionName) { sql in
            try await ContractCopy.record(id, company: company, va: va, title: title, state: state, now: now, on: sql)
        }
    }
}
