import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import Synchronization
import Testing

@testable import Marketplace

/// Accepting a proposal across two services: the hire and its contract, with the contracts service (a
/// stand-in on a real socket) up, down, slow and failing after creating the contract — on both engines.
@Suite struct HiresTests {
    static func id() -> String { UUID().uuidString.lowercased() }

    /// An open hourly job of `company` with a pending proposal from each of `vas`; returns the job and the proposals.
    static func proposals(_ market: ServiceHarness<Marketplace>, company: String, vas: [String]) async throws -> (String, [String]) {
        let job = #"{"title":"Support inbox","description":"Answer tickets.","jobType":"hourly","rateMinCents":800,"rateMaxCents":1500,"status":"open","skillsRequired":["zendesk"]}"#
        let posted = try await market.call(.post, "/jobs", json: job, as: .person(company, .company))
        let jobId = try posted.json(PostingView.self).id
        var ids: [String] = []
        for va in vas {
            try await market.vaProfile(va, skills: ["zendesk"])
            let body = #"{"jobPostingId":"\#(jobId)","coverLetter":"Hire me","bidType":"hourly","hourlyRateCents":1200}"#
            let sent = try await market.call(.post, "/proposals", json: body, as: .person(va, .va))
            ids.append(try sent.json(ProposalView.self).id)
        }
        return (jobId, ids)
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func acceptCreatesOneHireAndOneContract(engine: ServiceDatabase.Engine) async throws {
        let contracts = ContractsStandIn()
        try await contracts.serve(engine) { market in
            let company = Self.id(), va = Self.id(), other = Self.id()
            let (job, ids) = try await Self.proposals(market, company: company, vas: [va, other])
            // Only the job's company (or an admin) accepts.
            #expect(try await market.call(.post, "/proposals/\(ids[0])/accept", as: .person(va, .va)).status == .forbidden)
            #expect(try await market.call(.post, "/proposals/\(ids[0])/accept", as: .person(Self.id(), .company)).status == .notFound)
            #expect(try await market.call(.post, "/proposals/\(ids[0])/accept", json: #"{"startDate":"soon"}"#, as: .person(Self.id(), .company)).status == .notFound)
            #expect(try await market.call(.post, "/proposals/\(ids[0])/accept", json: #"{"startDate":"soon"}"#, as: .person(company, .company)).problemFields == ["startDate"])
            let accepted = try await market.call(.post, "/proposals/\(ids[0])/accept", json: #"{"terms":"Weekdays"}"#, as: .person(company, .company))
            #expect(accepted.status == .created)
            let hire = try accepted.json(JobRecord.self)
            #expect(hire.status == .active && hire.contractId != nil && hire.vaUserId == va && hire.jobPostingId == job)
            let body = try #require(contracts.state.withLock { $0.bodies.first })
            #expect(body.proposalId == ids[0] && body.jobId == hire.id && body.type == "hourly" && body.hourlyRateCents == 1200 && body.terms == "Weekdays")
            #expect(contracts.state.withLock { $0.authorized }, "the call carries the service's token and an Idempotency-Key")
            let event = try #require(try await market.published(ProposalAccepted.self).first)
            #expect(event.contractId == hire.contractId && event.jobId == hire.id && event.vaUserId == va)
            // A repeat answers the same hire; nothing is created twice. The other proposal stays open.
            let again = try await market.call(.post, "/proposals/\(ids[0])/accept", as: .person(company, .company))
            #expect(try again.status == .ok && again.json(JobRecord.self).id == hire.id)
            #expect(contracts.created == 1 && contracts.calls == 1)
            #expect(try await market.published(ProposalAccepted.self).count == 1)
            #expect(try await market.call(.get, "/proposals/\(ids[1])", as: .person(company, .company)).json(ProposalView.self).status == .pending)
            // Both parties see the hire.
            #expect(try await market.call(.get, "/jobs/hires", as: .person(company, .company)).json(Page<JobRecord>.self).items.map(\.id) == [hire.id])
            #expect(try await market.call(.get, "/jobs/hires", as: .person(va, .va)).json(Page<JobRecord>.self).items.map(\.id) == [hire.id])
            #expect(try await market.call(.get, "/jobs/hires", as: .person(other, .va)).json(Page<JobRecord>.self).items.isEmpty)
            // Filling the job with the second hire rejects what is left pending, and the job takes no more.
            let third = Self.id()
            try await market.vaProfile(third, skills: ["zendesk"])
            let late = try await market.call(.post, "/proposals", json: #"{"jobPostingId":"\#(job)","coverLetter":"Me too","bidType":"hourly","hourlyRateCents":900}"#, as: .person(third, .va))
            let lateId = try late.json(ProposalView.self).id
            #expect(try await market.call(.post, "/proposals/\(ids[1])/accept", json: #"{"fill":true}"#, as: .person(company, .company)).status == .created)
            #expect(try await market.call(.get, "/proposals/\(lateId)", as: .person(company, .company)).json(ProposalView.self).status == .rejected)
            #expect(try await market.call(.get, "/jobs/\(job)", as: .person(va, .va)).json(PostingView.self).status == .filled)
            let refused = try await market.call(.post, "/proposals/\(lateId)/accept", as: .person(company, .company))
            #expect(refused.status == .conflict && refused.problem?.detail == "The proposal is rejected; it cannot be accepted.")
        }
    }

    /// Nothing listening where the contracts service should be: a quick 503, and the hire waits.
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func contractsNotRunningAnswers503AtOnce(engine: ServiceDatabase.Engine) async throws {
        let users = ContractsStandIn()
        try await StandIn.serve(users.router) { port in
            try await ServiceHarness<Marketplace>.with(engine, services: [.users: "http://127.0.0.1:\(port)", .contracts: "http://127.0.0.1:9"]) { market in
                let company = Self.id()
                let (_, ids) = try await Self.proposals(market, company: company, vas: [Self.id()])
                let started = ContinuousClock.now
                let down = try await market.call(.post, "/proposals/\(ids[0])/accept", as: .person(company, .company))
                #expect(down.status == .serviceUnavailable && down.headers[.retryAfter] != nil, "\(down.status)")
                // A refused connection fails at once; the bound leaves room for a loaded machine, far below a hang (the 10 s timeout).
                #expect(started.duration(to: .now) < .seconds(5))
                #expect(try await market.call(.get, "/jobs/hires", as: .person(company, .company)).json(Page<JobRecord>.self).items.map(\.status) == [.contracting])
            }
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func concurrentAcceptsMakeOneHire(engine: ServiceDatabase.Engine) async throws {
        let contracts = ContractsStandIn()
        try await contracts.serve(engine) { market in
            let company = Self.id()
            let (_, ids) = try await Self.proposals(market, company: company, vas: [Self.id()])
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<6 { group.addTask { try await market.call(.post, "/proposals/\(ids[0])/accept", as: .person(company, .company)).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .created || $0 == .ok || $0 == .serviceUnavailable }, "\(statuses)")
            #expect(statuses.filter { $0 == .created }.count >= 1)
            #expect(try await market.call(.get, "/jobs/hires", as: .person(company, .company)).json(Page<JobRecord>.self).items.count == 1)
            #expect(contracts.created == 1)
            #expect(try await market.published(ProposalAccepted.self).count == 1)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func contractsDownSlowOrFailingLeaveOneHireThatARetryOrTheReconcilerFinishes(engine: ServiceDatabase.Engine) async throws {
        let contracts = ContractsStandIn()
        try await contracts.serve(engine, configuration: ["BLYTZ_CALL_TIMEOUT_MS": "1000", "BLYTZ_BREAKER_FAILURES": "100"]) { market in
            let company = Self.id()
            let (_, ids) = try await Self.proposals(market, company: company, vas: [Self.id(), Self.id(), Self.id()])
            func hires() async throws -> [JobRecord] { try await market.call(.get, "/jobs/hires", as: .person(company, .company)).json(Page<JobRecord>.self).items }

            // Unavailable: 503 with Retry-After within the call's budget and one retry (well inside the function's
            // 10 s timeout even on a loaded machine); the hire is recorded, waiting for its contract.
            contracts.set(.unavailable)
            var started = ContinuousClock.now
            let down = try await market.call(.post, "/proposals/\(ids[0])/accept", as: .person(company, .company))
            #expect(down.status == .serviceUnavailable && down.headers[.retryAfter] != nil, "\(down.status)")
            #expect(started.duration(to: .now) < .seconds(8))
            #expect(try await hires().map(\.status) == [.contracting])
            // Back up: the repeat finishes it with the same key.
            contracts.set(.up)
            let retried = try await market.call(.post, "/proposals/\(ids[0])/accept", as: .person(company, .company))
            #expect(try retried.status == .created && retried.json(JobRecord.self).contractId != nil)

            // Slow: the call gives up at its budget (504); the contract made late is the one kept.
            contracts.set(.slow(.seconds(4)))
            started = ContinuousClock.now
            let slow = try await market.call(.post, "/proposals/\(ids[1])/accept", as: .person(company, .company))
            #expect(slow.status == .gatewayTimeout, "\(slow.status)")
            #expect(started.duration(to: .now) < .seconds(8))

            // Failing after creating the contract: the contract exists, the hire does not know it yet.
            contracts.set(.failAfterCreating)
            let failed = try await market.call(.post, "/proposals/\(ids[2])/accept", as: .person(company, .company))
            #expect(failed.status == .badGateway, "\(failed.status)")
            #expect(try await hires().filter { $0.status == .contracting }.count == 2)

            // The reconciler, once the backoff has passed, finishes both with their keys: one contract each.
            try await Task.sleep(for: .seconds(4))
            contracts.set(.up)
            market.time.advance(by: .seconds(60))
            try await market.fire("marketplace-reconcile-accepts")
            let finished = try await hires()
            #expect(finished.count == 3 && finished.allSatisfy { $0.status == .active && $0.contractId != nil }, "\(finished)")
            #expect(contracts.created == 3)
            #expect(try await market.published(ProposalAccepted.self).count == 3)
            #expect(Set(finished.compactMap(\.contractId)) == Set(contracts.state.withLock { $0.contracts.values.map(\.id) }))
        }
    }
}
