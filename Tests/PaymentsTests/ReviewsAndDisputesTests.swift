import Blytz
import BlytzData
import BlytzEvents
import BlytzServices
import BlytzTesting
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization
import Testing

@testable import Payments

extension ServiceHarness where Service == Payments {
    /// A contract the contracts service announced as signed (and completed, when `completed`).
    func contract(_ company: String, _ va: String, completed: Bool = false) async throws -> String {
        let id = newId()
        var events: [any Event] = [ContractSigned(contractId: id, title: "Inbox zero", companyUserId: company, vaUserId: va, contractType: "fixed", amountCents: nil, currency: "USD")]
        if completed { events.append(ContractCompleted(contractId: id, title: "Inbox zero", companyUserId: company, vaUserId: va, totalPaidCents: 0, currency: "USD")) }
        #expect(try await deliver(events, to: "payments-on-contracts").isEmpty)
        return id
    }

    /// A milestone of `contract` funded by `company` through the contracts service: `cents` held in escrow.
    func fund(_ contract: String, _ company: String, _ va: String, cents: Int) async throws -> PaymentRecord {
        let body = #"{"payeeUserId":"\#(va)","amountCents":\#(cents),"currency":"USD","contractId":"\#(contract)","milestoneId":"\#(newId())"}"#
        let response = try await post("/payments", json: body, as: .service(.contracts, actingFor: (company, .company)))
        precondition(response.status == .created, String(decoding: response.body, as: UTF8.self))
        return try response.json(PaymentRecord.self)
    }

    func json(_ function: String, _ method: HTTPRequest.Method, _ path: String, _ body: String, parameters: [String: String] = [:], as identity: TestIdentity?) async throws -> HandlerTester.Response {
        try await http(function, HandlerTester.Request(method: method, path: path, pathParameters: parameters, headers: [.contentType: "application/json"], body: Data(body.utf8)), as: identity)
    }

    func review(_ contract: String, rating: Int, extra: String = "", as identity: TestIdentity?) async throws -> HandlerTester.Response {
        try await json("payments-reviews-create", .post, "/reviews", #"{"contractId":"\#(contract)","rating":\#(rating)\#(extra)}"#, as: identity)
    }

    func dispute(_ contract: String, reason: String = "The work was not delivered.", extra: String = "", as identity: TestIdentity) async throws -> HandlerTester.Response {
        try await json("payments-disputes-create", .post, "/disputes", #"{"contractId":"\#(contract)","reason":"\#(reason)"\#(extra)}"#, as: identity)
    }

    func resolve(_ dispute: String, _ body: String, as identity: TestIdentity) async throws -> HandlerTester.Response {
        try await json("payments-disputes-resolve", .post, "/disputes/\(dispute)/resolve", body, parameters: ["id": dispute], as: identity)
    }
}

/// Reviews of completed contracts and disputes of escrow, in process on SQLite and PostgreSQL.
@Suite(.timeLimit(.minutes(3))) struct ReviewsAndDisputesTests {
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func onlyAPartyOfACompletedContractReviewsTheOtherOnce(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Payments>.with(engine) { payments in
            let (company, va) = (newId(), newId())
            let (vaIdentity, companyIdentity) = (TestIdentity.person(va, .va), TestIdentity.person(company, .company))
            let active = try await payments.contract(company, va)
            let early = try await payments.review(active, rating: 5, as: companyIdentity)
            #expect(early.status == .conflict && early.problemFields == ["contractId"])
            #expect(try await payments.review(newId(), rating: 5, as: companyIdentity).status == .notFound)

            let done = try await payments.contract(company, va, completed: true)
            #expect(try await payments.review(done, rating: 5, as: .person(newId(), .company)).status == .notFound)
            #expect(try await payments.review(done, rating: 6, as: companyIdentity).problemFields == ["rating"])
            #expect(try await payments.review(done, rating: 5, extra: #","categories":{"quality":0}"#, as: companyIdentity).problemFields == ["categories.quality"])
            #expect(try await payments.review(done, rating: 5, as: nil).status == .unauthorized)

            let posted = try await payments.review(done, rating: 5, extra: ##","categories":{"communication":5,"quality":4},"comment":"Fast and careful.""##, as: companyIdentity)
            #expect(posted.status == .created, "\(String(decoding: posted.body, as: UTF8.self))")
            let review = try posted.json(ReviewRecord.self)
            #expect(review.targetUserId == va && review.reviewerUserId == company && review.categories.quality == 4 && review.comment == "Fast and careful.")
            let again = try await payments.review(done, rating: 1, as: companyIdentity)
            #expect(again.status == .conflict && again.problemFields == ["contractId"])
            // The VA reviews the company: the target is always the other party.
            #expect(try await payments.review(done, rating: 4, as: vaIdentity).json(ReviewRecord.self).targetUserId == company)

            // A late ContractSigned does not move the contract back.
            #expect(try await payments.deliver([ContractSigned(contractId: done, title: nil, companyUserId: company, vaUserId: va, contractType: nil, amountCents: nil, currency: nil)], to: "payments-on-contracts").isEmpty)
            // Ten reviews of one contract at once by one party: one is made.
            let another = try await payments.contract(company, va, completed: true)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for rating in 1...10 { group.addTask { try await payments.review(another, rating: rating % 5 + 1, as: companyIdentity).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1 && statuses.filter { $0 == .conflict }.count == 9)

            let list = try await payments.call(.get, "/reviews?targetUserId=\(va)", as: .person(newId(), .company)).json(ReviewPage.self)
            #expect(list.count == 2 && list.items.count == 2 && list.targetUserId == va)
            let ratings = list.items.map(\.rating)
            #expect(list.averageRating == Double(ratings.reduce(0, +)) / 2)
            #expect(try await payments.call(.get, "/reviews?targetUserId=\(va)&limit=1", as: vaIdentity).json(ReviewPage.self).nextCursor != nil)
            #expect(try await payments.call(.get, "/reviews", as: vaIdentity).problemFields == ["targetUserId"])
            #expect(try await payments.call(.get, "/reviews?targetUserId=\(newId())", as: vaIdentity).json(ReviewPage.self).averageRating == nil)
            #expect(try await payments.call(.get, "/reviews/\(review.id)", as: vaIdentity).json(ReviewRecord.self) == review)
            #expect(try await payments.call(.get, "/reviews/\(newId())", as: vaIdentity).status == .notFound)
            let announced = try await payments.published(ReviewPosted.self)
            #expect(announced.count == 3 && announced.prefix(2).map(\.rating) == [5, 4] && announced.map(\.reviewId).contains(review.id))
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aDisputeFreezesEscrowAndItsSplitIsExactToTheCent(engine: ServiceDatabase.Engine) async throws {
        try await ServiceHarness<Payments>.with(engine) { payments in
            let (company, va, admin, stranger) = (newId(), newId(), TestIdentity.person(newId(), .admin), TestIdentity.person(newId(), .company))
            let (vaIdentity, companyIdentity) = (TestIdentity.person(va, .va), TestIdentity.person(company, .company))
            let contract = try await payments.contract(company, va)
            // Nothing held yet: nothing to dispute.
            let empty = try await payments.dispute(contract, as: vaIdentity)
            #expect(empty.status == .conflict && empty.problemFields == ["contractId"])
            let first = try await payments.fund(contract, company, va, cents: 12_345)
            payments.time.advance(by: .seconds(1))
            let second = try await payments.fund(contract, company, va, cents: 7_656)
            #expect(try await payments.dispute(contract, as: stranger).status == .notFound)
            #expect(try await payments.dispute(contract, reason: "", as: vaIdentity).problemFields == ["reason"])

            let opened = try await payments.dispute(contract, extra: #","evidence":{"text":"I delivered on the 3rd; see the thread."}"#, as: vaIdentity)
            #expect(opened.status == .created)
            let dispute = try opened.json(DisputeView.self)
            #expect(dispute.dispute.status == .open && dispute.dispute.heldCents == 20_001 && dispute.dispute.openedBy == va && dispute.evidence.map(\.text) == ["I delivered on the 3rd; see the thread."])
            #expect(try await payments.dispute(contract, as: companyIdentity).status == .conflict)
            #expect(try await payments.published(DisputeOpened.self).map(\.disputeId) == [dispute.dispute.id])

            // Frozen: no release, no refund, by anyone.
            #expect(try await payments.release(first.id).status == .conflict)
            for identity in [companyIdentity, admin] {
                let refund = try await payments.post("/refunds", json: #"{"paymentId":"\#(second.id)","amountCents":100}"#, as: identity)
                #expect(refund.status == .conflict && refund.problemFields == ["contractId"])
            }

            // Evidence from the other party; not from a stranger or an admin.
            let evidence = #"{"text":"The work was half done."}"#
            #expect(try await payments.json("payments-disputes-evidence", .post, "/disputes/\(dispute.dispute.id)/evidence", evidence, parameters: ["id": dispute.dispute.id], as: companyIdentity).status == .created)
            #expect(try await payments.json("payments-disputes-evidence", .post, "/disputes/\(dispute.dispute.id)/evidence", evidence, parameters: ["id": dispute.dispute.id], as: stranger).status == .notFound)
            #expect(try await payments.json("payments-disputes-evidence", .post, "/disputes/\(dispute.dispute.id)/evidence", evidence, parameters: ["id": dispute.dispute.id], as: admin).status == .forbidden)
            #expect(try await payments.json("payments-disputes-evidence", .post, "/disputes/\(dispute.dispute.id)/evidence", "{}", parameters: ["id": dispute.dispute.id], as: companyIdentity).problemFields == ["text"])

            // Only an admin reviews and resolves; amounts must add up to what is held.
            let review = { (identity: TestIdentity) in try await payments.http("payments-disputes-review", HandlerTester.Request(method: .post, path: "/disputes/\(dispute.dispute.id)/review", pathParameters: ["id": dispute.dispute.id]), as: identity) }
            #expect(try await review(companyIdentity).status == .forbidden)
            #expect(try await review(admin).json(DisputeView.self).dispute.status == .underReview)
            let twice = try await review(admin)
            #expect(twice.status == .conflict && twice.problem?.detail?.contains("under_review") == true)
            #expect(try await payments.resolve(dispute.dispute.id, #"{"resolution":"split","releaseCents":12000,"refundCents":8000}"#, as: admin).problemFields == ["releaseCents"])
            #expect(try await payments.resolve(dispute.dispute.id, #"{"resolution":"split","releaseCents":12000}"#, as: admin).problemFields == ["refundCents"])
            #expect(try await payments.resolve(dispute.dispute.id, #"{"resolution":"split","releaseCents":20001,"refundCents":0}"#, as: admin).problemFields == ["refundCents"])
            #expect(try await payments.resolve(dispute.dispute.id, #"{"resolution":"sideways"}"#, as: admin).problemFields == ["resolution"])
            #expect(try await payments.resolve(dispute.dispute.id, #"{"resolution":"release"}"#, as: vaIdentity).status == .forbidden)

            // A split: 8,001 back to the company (all of the first payment's refund share comes from it), 12,000 to the VA.
            let resolved = try await payments.resolve(dispute.dispute.id, #"{"resolution":"split","releaseCents":12000,"refundCents":8001,"note":"Half the work was delivered."}"#, as: admin)
            #expect(resolved.status == .ok, "\(String(decoding: resolved.body, as: UTF8.self))")
            let settled = try resolved.json(DisputeView.self).dispute
            #expect(settled.status == .resolved && settled.resolution == .split && settled.releasedCents == 12_000 && settled.refundedCents == 8_001)
            #expect(try await payments.resolve(dispute.dispute.id, #"{"resolution":"release"}"#, as: admin).status == .conflict)

            // To the cent: the first payment (12,345) gave 8,001 back and released 4,344; the second released all 7,656.
            let releases = try await payments.published(EscrowReleased.self)
            #expect(releases.map(\.grossCents).sorted() == [4_344, 7_656])
            let fees = releases.map(\.feeCents).reduce(0, +)
            #expect(fees == 434 + 766)
            #expect(try await payments.balance(.escrow) == 0)
            #expect(try await payments.balance(.payable(va)) == 12_000 - fees)
            #expect(try await payments.balance(.platformFees) + payments.balance(.processorFees) == fees)
            #expect(try await payments.balance(.payer(company)) == -20_001 + 8_001)
            #expect(try await payments.unbalancedTransactions().isEmpty)
            let refunds = try await payments.published(RefundIssued.self)
            #expect(refunds.map(\.amountCents) == [8_001] && refunds.map(\.payeeDebitCents) == [0] && refunds.map(\.paymentId) == [first.id])
            #expect(try await payments.payment(first.id).status == .partiallyRefunded)
            #expect(try await payments.payment(second.id).status == .succeeded)
            let announced = try await payments.published(DisputeResolved.self)
            #expect(announced.map(\.releasedCents) == [12_000] && announced.map(\.refundedCents) == [8_001] && announced.first?.resolution == .split)
            // Both parties' totals, from the ledger.
            let vaTotals = try await payments.call(.get, "/payments/summary", as: vaIdentity).json(PaymentsSummary.Summary.self).currencies.first
            #expect(vaTotals?.receivedCents == 12_000 - fees && vaTotals?.heldCents == 0)
            let companyTotals = try await payments.call(.get, "/payments/summary", as: companyIdentity).json(PaymentsSummary.Summary.self).currencies.first
            #expect(companyTotals?.sentCents == 12_000 && companyTotals?.heldCents == 0)

            // Who sees it.
            #expect(try await payments.call(.get, "/disputes/\(dispute.dispute.id)", as: stranger).status == .notFound)
            #expect(try await payments.call(.get, "/disputes/\(dispute.dispute.id)", as: companyIdentity).json(DisputeView.self).evidence.count == 2)
            #expect(try await payments.call(.get, "/disputes", as: stranger).json(Page<DisputeRecord>.self).items.isEmpty)
            #expect(try await payments.call(.get, "/disputes?status=resolved", as: vaIdentity).json(Page<DisputeRecord>.self).items.map(\.id) == [dispute.dispute.id])
            #expect(try await payments.call(.get, "/disputes?contractId=\(contract)", as: admin).json(Page<DisputeRecord>.self).items.count == 1)
        }
    }

    @Test(arguments: [DisputeResolution.release, .refund])
    func aReleaseOrARefundMovesAllThatIsHeld(resolution: DisputeResolution) async throws {
        try await ServiceHarness<Payments>.with(.sqlite) { payments in
            let (company, va, admin) = (newId(), newId(), TestIdentity.person(newId(), .admin))
            let contract = try await payments.contract(company, va)
            let payment = try await payments.fund(contract, company, va, cents: 10_000)
            // Ten parties' clicks at once open one dispute.
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<10 { group.addTask { try await payments.dispute(contract, as: .person(index % 2 == 0 ? va : company, index % 2 == 0 ? .va : .company)).status } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            let dispute = try #require(try await payments.call(.get, "/disputes", as: admin).json(Page<DisputeRecord>.self).items.first)
            let over = try await payments.resolve(dispute.id, #"{"resolution":"\#(resolution.rawValue)","\#(resolution == .release ? "releaseCents" : "refundCents")":10001}"#, as: admin)
            #expect(over.status == .unprocessableContent)
            #expect(try await payments.resolve(dispute.id, #"{"resolution":"\#(resolution.rawValue)"}"#, as: admin).status == .ok)
            #expect(try await payments.balance(.escrow) == 0)
            if resolution == .release {
                #expect(try await payments.balance(.payable(va)) == 9_000)
                #expect(try await payments.balance(.payer(company)) == -10_000)
            } else {
                #expect(try await payments.balance(.payable(va)) == 0)
                #expect(try await payments.balance(.payer(company)) == 0)
                #expect(try await payments.payment(payment.id).status == .refunded)
            }
            // Resolved: the contract can be disputed again if money is held again.
            _ = try await payments.fund(contract, company, va, cents: 500)
            #expect(try await payments.dispute(contract, as: .person(company, .company)).status == .created)
        }
    }

    /// Evidence files are the party's own private, uploaded files, shared with the other party through the
    /// file service (a stand-in on a real socket, called with the party's own token).
    @Test func evidenceFilesAreTheirOwnersPrivateFilesSharedWithTheOtherParty() async throws {
        let files = FilesStandIn()
        try await StandIn.serve(files.router) { port in
            try await ServiceHarness<Payments>.with(.sqlite, configuration: ["BLYTZ_SERVICE_URL_FILES": "http://127.0.0.1:\(port)"]) { payments in
                let (company, va) = (newId(), newId())
                let contract = try await payments.contract(company, va)
                _ = try await payments.fund(contract, company, va, cents: 5_000)
                let (mine, publicOne, someoneElses, pending) = (newId(), newId(), newId(), newId())
                files.add(FileSummary(id: mine, ownerUserId: va, filename: "report.pdf", contentType: "application/pdf", size: 10, visibility: "private", status: "ready", sharedWith: []))
                files.add(FileSummary(id: publicOne, ownerUserId: va, filename: "shot.png", contentType: "image/png", size: 10, visibility: "public", status: "ready", sharedWith: []))
                files.add(FileSummary(id: someoneElses, ownerUserId: company, filename: "x.pdf", contentType: "application/pdf", size: 10, visibility: "private", status: "ready", sharedWith: []))
                files.add(FileSummary(id: pending, ownerUserId: va, filename: "y.pdf", contentType: "application/pdf", size: 10, visibility: "private", status: "pending", sharedWith: []))
                for (file, message) in [(publicOne, "public"), (someoneElses, "not a file of yours"), (newId(), "not a file of yours"), (pending, "not uploaded")] {
                    let refused = try await payments.dispute(contract, extra: #","evidence":{"fileIds":["\#(file)"]}"#, as: .person(va, .va))
                    #expect(refused.status == .unprocessableContent && refused.problemFields == ["evidence.fileIds"])
                    #expect(refused.problem?.errors?.first?.message.contains(message) == true, "\(message)")
                }
                #expect(try await payments.count(DisputeRecord.table) == 0)
                let opened = try await payments.dispute(contract, extra: #","evidence":{"fileIds":["\#(mine)"]}"#, as: .person(va, .va))
                #expect(opened.status == .created)
                #expect(try opened.json(DisputeView.self).evidence.map(\.fileId) == [mine])
                #expect(files.sharedWith(mine) == [company])
                #expect(files.lastAuthorization?.hasPrefix("Bearer ") == true && files.lastAuthorization != "Bearer service-token")
            }
        }
    }
}

/// A file service stand-in: `GET /files/{id}` answers its owner's file (404 for an unknown id) and
/// `PATCH /files/{id}` adds `shareWith`.
final class FilesStandIn: Sendable {
    private let state = Mutex<(files: [String: FileSummary], authorization: String?)>(([:], nil))

    func add(_ file: FileSummary) { state.withLock { $0.files[file.id] = file } }
    func sharedWith(_ id: String) -> [String] { state.withLock { $0.files[id]?.sharedWith ?? [] } }
    var lastAuthorization: String? { state.withLock { $0.authorization } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.get("/files/:id") { [self] request, context -> Response in
            let id = context.parameters.get("id") ?? ""
            return respond(state.withLock { state in
                state.authorization = request.headers[.authorization]
                return state.files[id]
            })
        }
        router.patch("/files/:id") { [self] request, context -> Response in
            let id = context.parameters.get("id") ?? ""
            let body = try await request.body.collect(upTo: 1 << 20)
            let change = try JSONDecoder().decode(ShareFileBody.self, from: Data(body.readableBytesView))
            return respond(state.withLock { state in
                state.authorization = request.headers[.authorization]
                state.files[id]?.sharedWith += change.shareWith
                return state.files[id]
            })
        }
        return router
    }

    private func respond(_ file: FileSummary?) -> Response {
        guard let file, let data = try? JSONEncoder().encode(file) else {
            return Response(status: .notFound, headers: [.contentType: "application/problem+json"], body: .init(byteBuffer: ByteBuffer(string: #"{"title":"Not Found","status":404}"#)))
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
