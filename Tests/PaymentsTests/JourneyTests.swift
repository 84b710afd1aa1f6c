import Blytz
import BlytzData
import BlytzTesting
import Foundation
import NIOHTTP1
import Testing

/// The whole BlytzWork journey as two people walk it, through the running runner with every service of
/// `functions.yaml` in its own worker processes, on SQLite and PostgreSQL; then what every other service
/// shows of it.
@Suite(.serialized, .timeLimit(.minutes(5))) struct JourneyTests {
    struct Item: Decodable { var id: String }
    struct Page<Element: Decodable>: Decodable { var items: [Element]; var nextCursor: String? }
    struct Hire: Decodable { var contractId: String? }
    struct Contract: Decodable { var id: String; var status: String }
    struct Funding: Decodable { struct Milestone: Decodable { var status: String }; var milestone: Milestone }
    struct VAProfile: Decodable { var averageRating: Double; var totalReviews: Int; var completedJobs: Int; var earnedCents: Int? }
    struct CompanyProfile: Decodable { var totalSpentCents: Int? }
    struct Reviews: Decodable { var averageRating: Double?; var count: Int }
    struct Note: Decodable { var type: String; var message: String; var link: String? }
    struct Totals: Decodable { var currency: String; var sentCents: Int; var receivedCents: Int; var feesCents: Int; var heldCents: Int; var processorFeesCents: Int }
    struct Summary: Decodable { var currencies: [Totals] }
    struct Dispute: Decodable { var id: String; var status: String; var heldCents: Int }
    struct Posting: Decodable { var status: String }

    /// A company and a VA with profiles; the company's job, the VA's proposal, accepted (filling the job)
    /// and signed by both: the active contract.
    func hire(_ api: Backend) async throws -> (company: String, companyId: String, va: String, vaId: String, job: String, contract: String) {
        let company = try await api.register("company")
        let va = try await api.register("va")
        #expect(try await api.call(.POST, "/profiles/company", token: company.accessToken, json: #"{"name":"Acme Remote Ops","country":"US","industry":"retail"}"#).status == 201)
        #expect(try await api.call(.POST, "/profiles/va", token: va.accessToken, json: #"{"name":"Vera Cruz","country":"PH","timezone":"Asia/Manila","hourlyRateCents":1000,"skills":["Zendesk"]}"#).status == 201)
        let job = #"{"title":"Support on Zendesk","description":"Tickets and email.","jobType":"fixed","budgetCents":20000,"skillsRequired":["zendesk"],"status":"open"}"#
        let posted = try await api.call(.POST, "/jobs", token: company.accessToken, json: job)
        #expect(posted.status == 201, "\(posted.text)")
        let jobId = try posted.json(Item.self).id
        let proposal = #"{"jobPostingId":"\#(jobId)","coverLetter":"I know Zendesk well.","bidType":"fixed","bidCents":20000}"#
        #expect(try await eventually { try await api.call(.POST, "/proposals", token: va.accessToken, json: proposal).status == 201 })
        let proposalId = try #require(try await api.call(.GET, "/proposals?jobPostingId=\(jobId)", token: company.accessToken).json(Page<Item>.self).items.first?.id)
        let accepted = try await api.call(.POST, "/proposals/\(proposalId)/accept", token: company.accessToken, json: #"{"fill":true}"#)
        #expect(accepted.status == 201, "\(accepted.text)")
        let contract = try #require(try accepted.json(Hire.self).contractId)
        for token in [va.accessToken, company.accessToken] { #expect(try await api.call(.POST, "/contracts/\(contract)/sign", token: token).status == 200) }
        #expect(try await api.call(.GET, "/contracts/\(contract)", token: company.accessToken).json(Contract.self).status == "active")
        return (company.accessToken, try #require(company.user?.id), va.accessToken, try #require(va.user?.id), jobId, contract)
    }

    /// A milestone of `cents`, funded by the company and submitted by the VA.
    func fundedWork(_ api: Backend, contract: String, company: String, va: String, cents: Int) async throws -> String {
        let milestone = try await api.call(.POST, "/contracts/\(contract)/milestones", token: company, json: #"{"title":"Set up macros","amountCents":\#(cents)}"#).json(Item.self).id
        // A charge that outlasts the request (a cold payments worker on a loaded machine) is finished by
        // repeating it, as the answer says; a repeat after it finished is refused, and the milestone shows it.
        var answers: [String] = []
        let funded = try await eventually(within: .seconds(30)) {
            let funded = try await api.call(.POST, "/milestones/\(milestone)/fund", token: company, json: #"{"paymentMethod":"pm_card_visa"}"#)
            answers.append("\(funded.status): \(funded.text)")
            if funded.status == 200 { return (try? funded.json(Funding.self))?.milestone.status == "funded" }
            let items = try await api.call(.GET, "/contracts/\(contract)/milestones", token: company).object["items"] as? [[String: Any]] ?? []
            return items.first { $0["id"] as? String == milestone }?["status"] as? String == "funded"
        }
        #expect(funded, "\(answers)")
        #expect(try await api.call(.POST, "/milestones/\(milestone)/submit", token: va).status == 200)
        return milestone
    }

    func notes(_ api: Backend, _ token: String) async throws -> [String: [Note]] {
        Dictionary(grouping: try await api.call(.GET, "/notifications?limit=100", token: token).json(Page<Note>.self).items, by: \.type)
    }

    func totals(_ api: Backend, _ token: String, userId: String? = nil) async throws -> Totals? {
        try await api.call(.GET, "/payments/summary" + (userId.map { "?userId=\($0)" } ?? ""), token: token).json(Summary.self).currencies.first { $0.currency == "USD" }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func postProposeHireSignFundApprovePayCompleteAndReview(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
            let (company, companyId, va, vaId, job, contract) = try await hire(api)
            let milestone = try await fundedWork(api, contract: contract, company: company, va: va, cents: 20_000)
            #expect(try await api.call(.POST, "/milestones/\(milestone)/approve", token: company).object["status"] as? String == "paid")
            let completed = try await api.call(.POST, "/contracts/\(contract)/complete", token: company)
            #expect(try completed.json(Contract.self).status == "completed", "\(completed.text)")

            // Both review, once the payments service has heard the contract is complete.
            let review = #"{"contractId":"\#(contract)","rating":5,"categories":{"communication":5,"quality":5},"comment":"Tickets cleared in a week."}"#
            #expect(try await eventually(within: .seconds(15)) { try await api.call(.POST, "/reviews", token: company, json: review).status == 201 })
            #expect(try await api.call(.POST, "/reviews", token: company, json: review).status == 409)
            #expect(try await api.call(.POST, "/reviews", token: va, json: #"{"contractId":"\#(contract)","rating":4}"#).status == 201)

            // The user service: the VA's rating, completed jobs and net earnings; the company's spending.
            let profiled = try await eventually(within: .seconds(15)) {
                let profile = try await api.call(.GET, "/profiles/va/me", token: va).json(VAProfile.self)
                return profile.averageRating == 5 && profile.totalReviews == 1 && profile.completedJobs == 1 && profile.earnedCents == 18_000
            }
            let profile = try await api.call(.GET, "/profiles/va/me", token: va).text
            #expect(profiled, "\(profile)")
            #expect(try await eventually(within: .seconds(10)) { try await api.call(.GET, "/profiles/company/me", token: company).json(CompanyProfile.self).totalSpentCents == 20_000 })
            let reviews = try await api.call(.GET, "/reviews?targetUserId=\(vaId)", token: company).json(Reviews.self)
            #expect(reviews.averageRating == 5 && reviews.count == 1)
            #expect(try await api.call(.GET, "/reviews?targetUserId=\(companyId)", token: va).json(Reviews.self).averageRating == 4)

            // The ledger, to the cent: the company paid 200.00; the VA received 180.00; the platform kept 20.00; nothing is held.
            let admin = try await api.admin().accessToken
            let paid = try #require(try await totals(api, company))
            #expect(paid.sentCents == 20_000 && paid.heldCents == 0)
            let earned = try #require(try await totals(api, va))
            #expect(earned.receivedCents == 18_000 && earned.feesCents == 2_000)
            let platform = try #require(try await totals(api, admin))
            // The platform's 20.00, less what the processor kept of the charge.
            #expect(platform.feesCents + platform.processorFeesCents == 2_000 && platform.heldCents == 0, "\(platform)")

            // The marketplace: the job is filled.
            #expect(try await api.call(.GET, "/jobs/\(job)", token: va).json(Posting.self).status == "filled")

            // Both parties were told, once each, with names and amounts.
            let told = try await eventually(within: .seconds(15)) {
                let (toVA, toCompany) = (try await notes(api, va), try await notes(api, company))
                return ["ProposalAccepted", "ContractSigned", "MilestoneApproved", "EscrowReleased", "ReviewPosted"].allSatisfy { toVA[$0]?.count == 1 }
                    && ["ProposalSubmitted", "ContractSigned", "PaymentCompleted", "EscrowReleased", "ReviewPosted"].allSatisfy { toCompany[$0]?.count == 1 }
            }
            let (toVA, toCompany) = (try await notes(api, va), try await notes(api, company))
            #expect(told, "\(toVA.mapValues(\.count)) \(toCompany.mapValues(\.count))")
            #expect(toVA["EscrowReleased"]?.first?.message == "Acme Remote Ops released USD 200.00 from escrow: USD 180.00 is yours after the USD 20.00 platform fee.")
            #expect(toVA["ReviewPosted"]?.first?.message == "Acme Remote Ops left you a 5-star review.")
            #expect(toCompany["PaymentCompleted"]?.first?.message.contains("USD 200.00 to Vera Cruz") == true)
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aDisputeWithEvidenceResolvedAsASplitBalancesToTheCent(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
            let (company, _, va, vaId, _, contract) = try await hire(api)
            let milestone = try await fundedWork(api, contract: contract, company: company, va: va, cents: 20_001)
            // The VA's evidence: a private file, shared with the company by opening the dispute.
            let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + Data(repeating: 7, count: 64)
            let uploaded = try await api.runner.request(.POST, "/api/files?filename=delivered.png", headers: ["Authorization": "Bearer \(va)", "Content-Type": "image/png"], body: png)
            #expect(uploaded.status == 201, "\(uploaded.text)")
            let file = try uploaded.json(Item.self).id
            #expect(try await api.call(.GET, "/files/\(file)/content", token: company).status == 404)

            let body = #"{"contractId":"\#(contract)","reason":"The macros were delivered; approval never came.","evidence":{"text":"Delivered on the 3rd.","fileIds":["\#(file)"]}}"#
            let opened = try await eventually(within: .seconds(15)) { try await api.call(.POST, "/disputes", token: va, json: body).status == 201 }
            #expect(opened)
            let dispute = try #require(try await api.call(.GET, "/disputes", token: company).json(Page<Dispute>.self).items.first)
            #expect(dispute.heldCents == 20_001 && dispute.status == "open")
            #expect(try await api.call(.GET, "/files/\(file)/content", token: company).status == 200)
            #expect(try await api.call(.GET, "/files/\(file)/content", token: try await api.register("company").accessToken).status == 404)
            #expect(try await eventually(within: .seconds(10)) { try await api.call(.GET, "/contracts/\(contract)", token: va).json(Contract.self).status == "disputed" })
            // Frozen: the company cannot approve its way out, and nothing is released.
            let approve = try await api.call(.POST, "/milestones/\(milestone)/approve", token: company)
            #expect(approve.status == 409, "\(approve.text)")

            let admin = try await api.admin().accessToken
            #expect(try await api.call(.POST, "/disputes/\(dispute.id)/review", token: admin).json(Dispute.self).status == "under_review")
            let split = #"{"resolution":"split","releaseCents":12000,"refundCents":8001,"note":"The work was partly delivered."}"#
            #expect(try await api.call(.POST, "/disputes/\(dispute.id)/resolve", token: va, json: split).status == 403)
            let resolved = try await api.call(.POST, "/disputes/\(dispute.id)/resolve", token: admin, json: split)
            #expect(resolved.status == 200, "\(resolved.text)")

            // The contract completes; to the cent: 120.00 released (108.00 to the VA, 12.00 fee), 80.01 back to the company.
            #expect(try await eventually(within: .seconds(10)) { try await api.call(.GET, "/contracts/\(contract)", token: va).json(Contract.self).status == "completed" })
            let earned = try #require(try await totals(api, va))
            #expect(earned.receivedCents == 10_800 && earned.feesCents == 1_200 && earned.heldCents == 0)
            let paid = try #require(try await totals(api, company))
            #expect(paid.sentCents == 12_000 && paid.heldCents == 0)
            let platform = try #require(try await totals(api, admin))
            #expect(platform.feesCents + platform.processorFeesCents == 1_200 && platform.heldCents == 0, "\(platform)")
            #expect(try await eventually(within: .seconds(15)) { try await api.call(.GET, "/profiles/va/me", token: va).json(VAProfile.self).earnedCents == 10_800 })
            #expect(try await eventually(within: .seconds(10)) { try await api.call(.GET, "/profiles/company/me", token: company).json(CompanyProfile.self).totalSpentCents == 12_000 })

            // Both told how it ended; the company of the dispute and its refund, the VA of the release.
            let outcome = "The dispute on your contract was resolved: USD 120.00 was released to Vera Cruz and USD 80.01 refunded to Acme Remote Ops."
            let told = try await eventually(within: .seconds(15)) {
                let (toVA, toCompany) = (try await notes(api, va), try await notes(api, company))
                return toVA["DisputeResolved"]?.map(\.message) == [outcome] && toCompany["DisputeResolved"]?.map(\.message) == [outcome]
                    && toCompany["DisputeOpened"]?.count == 1 && toCompany["RefundIssued"]?.count == 1 && toVA["EscrowReleased"]?.count == 1
            }
            let (toVA, toCompany) = (try await notes(api, va), try await notes(api, company))
            #expect(told, "\(toVA.mapValues { $0.map(\.message) }) \(toCompany.mapValues { $0.map(\.message) })")
            #expect(toCompany["RefundIssued"]?.first?.message == "You were refunded USD 80.01 of your payment to Vera Cruz.")
            // Completed by the split: now both may review.
            #expect(try await eventually(within: .seconds(10)) { try await api.call(.POST, "/reviews", token: company, json: #"{"contractId":"\#(contract)","rating":3}"#).status == 201 })
            #expect(try await eventually(within: .seconds(15)) { try await api.call(.GET, "/profiles/va/me", token: va).json(VAProfile.self).totalReviews == 1 })
            _ = vaId
        }
    }

    /// `blytz seed` with the backend running: a completed contract both parties reviewed, and an open
    /// dispute of a funded milestone for an admin to resolve; a second seed adds nothing.
    @Test func theSeedLeavesReviewsAndAnOpenDisputeForTheAdmin() async throws {
        try await Backend.with(.sqlite) { api in
            var environment = api.settings
            for (service, url) in api.runner.urls.services { environment["BLYTZ_SERVICE_URL_\(service.uppercased())"] = url }
            let seeded = try blytz(["seed", "--data-dir", api.runner.dataDirectory], environment: environment)
            #expect(seeded.status == 0 && seeded.output.contains(#""reviews":2,"disputes":1"#), "\(seeded.output)")
            let again = try blytz(["seed", "--data-dir", api.runner.dataDirectory], environment: environment)
            #expect(again.status == 0 && again.output.contains(#""skipped":true"#), "\(again.output)")

            let grace = try await api.login("grace@demo.blytz.work", "blytz-demo-pass").json(Backend.Session.self)
            let reviews = try await api.call(.GET, "/reviews?targetUserId=\(try #require(grace.user?.id))", token: grace.accessToken).json(Reviews.self)
            #expect(reviews.count == 1 && reviews.averageRating == 5)
            #expect(try await eventually(within: .seconds(15)) { try await api.call(.GET, "/profiles/va/me", token: grace.accessToken).json(VAProfile.self).totalReviews == 1 })
            let admin = try await api.admin().accessToken
            let open = try await api.call(.GET, "/disputes?status=open", token: admin).json(Page<Dispute>.self).items
            #expect(open.count == 1 && open.first?.heldCents == 12_000)
            let lucia = try await api.login("lucia@demo.blytz.work", "blytz-demo-pass").json(Backend.Session.self)
            let contract = try await api.call(.GET, "/contracts?status=disputed", token: lucia.accessToken).json(Page<Contract>.self).items
            #expect(try await eventually(within: .seconds(10)) { try await api.call(.GET, "/contracts?status=disputed", token: lucia.accessToken).json(Page<Contract>.self).items.count == 1 }, "\(contract)")
            let resolved = try await api.call(.POST, "/disputes/\(try #require(open.first?.id))/resolve", token: admin, json: #"{"resolution":"split","releaseCents":6000,"refundCents":6000}"#)
            #expect(resolved.status == 200, "\(resolved.text)")
        }
    }
}
