import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import SQLKit
import Testing

@testable import Contracts

/// Contracts through their states by every party, creation rules, idempotency and the user service's word.
@Suite struct ContractRoutesTests {
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func contractsThroughTheirStatesByTheRightParties(engine: ServiceDatabase.Engine) async throws {
        let peers = PeerStandIn()
        try await peers.serve(engine) { contracts in
            let (company, va, stranger) = (newId(), newId(), newId())
            peers.user(company, .company)
            peers.user(va, .va)
            peers.user(stranger, .company)
            let body = #"{"title":"Support work","vaUserId":"\#(va)","type":"fixed","amountCents":50000,"currency":"USD","taxRateBasisPoints":1000}"#
            // Who may create, and what the user service must confirm.
            #expect(try await contracts.call(.post, "/contracts", json: body, as: .person(va, .va)).status == .forbidden)
            #expect(try await contracts.call(.post, "/contracts", json: #"{"title":"Support"}"#, as: .person(company, .company)).problemFields == ["vaUserId", "type", "currency"])
            #expect(try await contracts.call(.post, "/contracts", json: body.replacingOccurrences(of: va, with: newId()), as: .person(company, .company)).problemFields == ["vaUserId"])
            #expect(try await contracts.call(.post, "/contracts", json: body.replacingOccurrences(of: va, with: stranger), as: .person(company, .company)).problemFields == ["vaUserId"])
            #expect(try await contracts.call(.post, "/contracts", json: body.replacingOccurrences(of: #""amountCents":50000,"#, with: ""), as: .person(company, .company)).problemFields == ["amountCents"])
            let linked = body.replacingOccurrences(of: "{", with: #"{"proposalId":"\#(newId())","#)
            #expect(try await contracts.call(.post, "/contracts", json: linked, as: .person(company, .company)).status == .forbidden)
            let contract = try await contracts.call(.post, "/contracts", json: body, as: .person(company, .company))
            #expect(contract.status == .created)
            var record = try contract.json(ContractRecord.self)
            #expect(record.status == .pending && record.companyUserId == company && record.taxRateBasisPoints == 1_000 && record.paymentDays == 14)
            // Only the parties and admins see it; anyone else is told it does not exist.
            #expect(try await contracts.call(.get, "/contracts/\(record.id)", as: .person(stranger, .company)).status == .notFound)
            #expect(try await contracts.call(.get, "/contracts/\(record.id)", as: .person(newId(), .admin)).status == .ok)
            #expect(try await contracts.call(.get, "/contracts", as: .person(va, .va)).json(Page<ContractRecord>.self).items.map(\.id) == [record.id])
            #expect(try await contracts.call(.get, "/contracts?status=active", as: .person(company, .company)).json(Page<ContractRecord>.self).items.isEmpty)
            #expect(try await contracts.call(.get, "/contracts", as: .person(stranger, .company)).json(Page<ContractRecord>.self).items.isEmpty)
            // The VA signs; an edit clears that signature; both sign: active, one ContractSigned.
            #expect(try await contracts.call(.post, "/contracts/\(record.id)/sign", as: .person(va, .va)).json(ContractRecord.self).vaSignedAt != nil)
            #expect(try await contracts.call(.patch, "/contracts/\(record.id)", json: #"{"terms":"Weekly report"}"#, as: .person(va, .va)).status == .forbidden)
            record = try await contracts.call(.patch, "/contracts/\(record.id)", json: #"{"terms":"Weekly report","amountCents":60000}"#, as: .person(company, .company)).json(ContractRecord.self)
            #expect(record.vaSignedAt == nil && record.amountCents == 60_000 && record.terms == "Weekly report")
            #expect(try await contracts.call(.patch, "/contracts/\(record.id)", json: #"{"vaUserId":"\#(stranger)"}"#, as: .person(company, .company)).problemFields == ["vaUserId"])
            _ = try await contracts.call(.post, "/contracts/\(record.id)/sign", as: .person(company, .company))
            _ = try await contracts.call(.post, "/contracts/\(record.id)/sign", as: .person(company, .company))
            #expect(try await contracts.call(.post, "/contracts/\(record.id)/sign", as: .person(stranger, .company)).status == .notFound)
            record = try await contracts.call(.post, "/contracts/\(record.id)/sign", as: .person(va, .va)).json(ContractRecord.self)
            #expect(record.status == .active)
            #expect(try await contracts.call(.post, "/contracts/\(record.id)/sign", as: .person(va, .va)).json(ContractRecord.self).status == .active)
            #expect(try await contracts.published(ContractSigned.self).map(\.contractId) == [record.id])
            // Active: no more edits; the VA cannot complete; the company completes it; then nothing more.
            #expect(try await contracts.call(.patch, "/contracts/\(record.id)", json: #"{"terms":"x"}"#, as: .person(company, .company)).problemFields == ["status"])
            #expect(try await contracts.call(.post, "/contracts/\(record.id)/complete", as: .person(va, .va)).status == .forbidden)
            #expect(try await contracts.call(.post, "/contracts/\(record.id)/complete", as: .person(company, .company)).json(ContractRecord.self).status == .completed)
            #expect(try await contracts.published(ContractCompleted.self).map(\.contractId) == [record.id])
            let refused = try await contracts.call(.post, "/contracts/\(record.id)/cancel", as: .person(va, .va))
            #expect(refused.status == .conflict && refused.problem?.detail?.contains("completed") == true)
            // Either party cancels a pending or active contract, with a reason.
            let other = try await contracts.contract(peers, company: company, va: va, type: .fixed, signed: false)
            let cancelled = try await contracts.call(.post, "/contracts/\(other.id)/cancel", json: #"{"reason":"Changed plans"}"#, as: .person(va, .va))
            #expect(try cancelled.json(ContractRecord.self).status == .cancelled)
            #expect(try await contracts.published(ContractCancelled.self).map(\.reason) == ["Changed plans"])
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aKeyMakesOneContractAndOnlyTheMarketplaceLinksAProposal(engine: ServiceDatabase.Engine) async throws {
        let peers = PeerStandIn()
        try await peers.serve(engine) { contracts in
            let (company, va, proposal) = (newId(), newId(), newId())
            peers.user(company, .company)
            peers.user(va, .va)
            let body = #"{"title":"Support work","companyUserId":"\#(company)","vaUserId":"\#(va)","type":"hourly","hourlyRateCents":1500,"currency":"USD","proposalId":"\#(proposal)"}"#
            let marketplace = TestIdentity.service(.marketplace, actingFor: (company, .company))
            // Twenty concurrent repeats of one key: one contract, the same answer for all.
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 { group.addTask { try await contracts.post("contracts-create", "/contracts", json: body, key: "accept-\(proposal)", as: marketplace).json(ContractRecord.self).id } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            let count = try await contracts.database.withConnection { sql in try await sql.select().column("id").from(ContractRecord.table).all().count }
            #expect(count == 1)
            // Another key for the same proposal answers the first contract too.
            let again = try await contracts.post("contracts-create", "/contracts", json: body, key: "other", as: marketplace)
            #expect(try again.status == .ok && again.json(ContractRecord.self).id == ids.first)
            // The same key with another body is refused.
            #expect(try await contracts.post("contracts-create", "/contracts", json: body.replacingOccurrences(of: "1500", with: "1600"), key: "accept-\(proposal)", as: marketplace).status == .unprocessableContent)
            // Another service may not link a proposal.
            #expect(try await contracts.post("contracts-create", "/contracts", json: body, as: .service(.payments, actingFor: (company, .company))).status == .forbidden)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func userServiceDownAnswers503QuicklyAndWritesNothing(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Contracts>.with(engine) { contracts in
            let body = #"{"title":"Support work","vaUserId":"\#(newId())","type":"fixed","amountCents":50000,"currency":"USD"}"#
            let started = ContinuousClock.now
            let answer = try await contracts.call(.post, "/contracts", json: body, as: .person(newId(), .company))
            #expect(answer.status == .serviceUnavailable)
            #expect(started.duration(to: .now) < .seconds(5))
            let count = try await contracts.database.withConnection { sql in try await sql.select().column("id").from(ContractRecord.table).all().count }
            #expect(count == 0)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func theDemoContractIsSignedWithWorkAndSeededOnce(engine: ServiceDatabase.Engine) async throws {
        let peers = PeerStandIn()
        try await peers.serve(engine) { contracts in
            let (company, va) = (newId(), newId())
            #expect(try await DemoContract.seed(company: company, va: va, context: contracts.context()).contains(#""skipped":false"#))
            #expect(try await DemoContract.seed(company: company, va: va, context: contracts.context()).contains(#""skipped":true"#))
            // Announced as signed, once, so the payments service knows its parties.
            #expect(try await contracts.published(ContractSigned.self).map(\.vaUserId) == [va])
            let listed = try await contracts.call(.get, "/contracts", as: .person(va, .va)).json(Page<ContractRecord>.self).items
            #expect(listed.map(\.status) == [.active])
            let id = try #require(listed.first?.id)
            #expect(try await contracts.call(.get, "/contracts/\(id)/milestones", as: .person(company, .company)).json(Page<MilestoneRecord>.self).items.count == 2)
            let entries = try await contracts.call(.get, "/contracts/\(id)/timesheets", as: .person(company, .company)).json(Page<TimesheetRecord>.self).items
            #expect(entries.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.approved, .approved, .pending] && entries.allSatisfy { $0.minutes == 240 })
            #expect(try await contracts.call(.post, "/contracts/\(id)/invoices", as: .person(va, .va)).json(InvoiceRecord.self).dueCents == 2 * 4 * 1_200)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func disputesMoveTheContractAsTheirResolutionSays(engine: ServiceDatabase.Engine) async throws {
        let peers = PeerStandIn()
        try await peers.serve(engine) { contracts in
            let (company, va) = (newId(), newId())
            for (resolution, expected) in [(DisputeResolution.release, ContractStatus.active), (.refund, .cancelled), (.split, .completed)] {
                let contract = try await contracts.contract(peers, company: company, va: va, type: .fixed)
                let dispute = newId()
                let opened = DisputeOpened(disputeId: dispute, contractId: contract.id, paymentId: nil, openedBy: va, companyUserId: company, vaUserId: va, reason: "Late")
                for _ in 0..<2 { _ = try await contracts.deliver([opened], to: "contracts-on-disputes", id: "opened-\(dispute)") }
                #expect(try await contracts.call(.get, "/contracts/\(contract.id)", as: .person(va, .va)).json(ContractRecord.self).status == .disputed)
                #expect(try await contracts.call(.post, "/contracts/\(contract.id)/complete", as: .person(company, .company)).status == .conflict)
                let resolved = DisputeResolved(disputeId: dispute, contractId: contract.id, resolution: resolution, releasedCents: 0, refundedCents: 0, currency: "USD", companyUserId: company, vaUserId: va)
                for _ in 0..<2 { _ = try await contracts.deliver([resolved], to: "contracts-on-disputes", id: "resolved-\(dispute)") }
                #expect(try await contracts.call(.get, "/contracts/\(contract.id)", as: .person(va, .va)).json(ContractRecord.self).status == expected)
                // An end reached by a resolution is announced once, as any end is.
                #expect(try await contracts.published(ContractCompleted.self).filter { $0.contractId == contract.id }.count == (expected == .completed ? 1 : 0))
                #expect(try await contracts.published(ContractCancelled.self).filter { $0.contractId == contract.id }.count == (expected == .cancelled ? 1 : 0))
            }
        }
    }
}
