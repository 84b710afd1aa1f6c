import Blytz
import BlytzData
import BlytzRunner
import BlytzTesting
import Foundation
import NIOHTTP1
import Testing

/// `POST /proposals/{id}/accept` through the real runner when its call to the real contracts service fails
/// half-way — the contracts worker killed while it handles the call, or the connection cut after the
/// contract was made but before its answer arrived — on SQLite and PostgreSQL: once the call is repeated
/// with its idempotency key (by the service client, or by the company repeating the accept), there is one
/// hire and exactly one contract.
@Suite(.serialized, .timeLimit(.minutes(8))) struct AcceptFaultTests {
    enum Fault: String, CaseIterable, Sendable {
        case contractsKilled, answerLost
    }

    struct Item: Decodable { var id: String }
    struct Page<Element: Decodable>: Decodable { var items: [Element] }
    struct Hire: Decodable { var id: String; var status: String; var contractId: String? }
    struct Contract: Decodable { var id: String; var proposalId: String? }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres], Fault.allCases)
    func anAcceptWhoseCallFailsHalfWayEndsWithOneHireAndOneContract(engine: ServiceDatabase.Engine, fault: Fault) async throws {
        // The marketplace reaches the contracts service, and the contracts service the user service, through
        // proxies that fail one call each on demand; nothing else calls the contracts service.
        let contractsControl = NSTemporaryDirectory() + "faulty-proxy-\(UUID().uuidString)"
        let usersControl = NSTemporaryDirectory() + "faulty-proxy-\(UUID().uuidString)"
        for control in [contractsControl, usersControl] { try FileManager.default.createDirectory(atPath: control, withIntermediateDirectories: true) }
        defer { for control in [contractsControl, usersControl] { try? FileManager.default.removeItem(atPath: control) } }
        let fixtures = ["PYTHONPATH": FileManager.default.currentDirectoryPath + "/Tests/Fixtures"]
        try await PythonServer.with(module: "faulty_proxy", arguments: ["{port}", contractsControl], environment: fixtures) { contractsProxy in
        try await PythonServer.with(module: "faulty_proxy", arguments: ["{port}", usersControl], environment: fixtures) { usersProxy in
            let environment = ["BLYTZ_SERVICE_URL_CONTRACTS": "http://127.0.0.1:\(contractsProxy)", "BLYTZ_SERVICE_URL_USERS": "http://127.0.0.1:\(usersProxy)"]
            try await Backend.with(engine, environment: environment) { api in
                try #require(api.runner.urls.services["contracts"]).write(toFile: contractsControl + "/upstream", atomically: true, encoding: .utf8)
                try #require(api.runner.urls.services["users"]).write(toFile: usersControl + "/upstream", atomically: true, encoding: .utf8)
                let company = try await api.register("company")
                let va = try await api.register("va")
                #expect(try await api.call(.POST, "/profiles/va", token: va.accessToken, json: #"{"name":"Vera Cruz","country":"PH","hourlyRateCents":1000,"skills":["Zendesk"]}"#).status == 201)
                let job = #"{"title":"Support on Zendesk","description":"Tickets and email.","jobType":"fixed","budgetCents":20000,"skillsRequired":["zendesk"],"status":"open"}"#
                let jobId = try await api.call(.POST, "/jobs", token: company.accessToken, json: job).json(Item.self).id
                let proposal = #"{"jobPostingId":"\#(jobId)","coverLetter":"I know Zendesk well.","bidType":"fixed","bidCents":20000}"#
                #expect(try await eventually { try await api.call(.POST, "/proposals", token: va.accessToken, json: proposal).status == 201 })
                let proposalId = try #require(try await api.call(.GET, "/proposals?jobPostingId=\(jobId)", token: company.accessToken).json(Page<Item>.self).items.first?.id)
                // Killed: no contracts-create worker runs before the accept, so the one found while the user
                // service is being asked about the parties is the one handling the accept's call.
                // Lost: the answer to the marketplace is cut after the contract was made.
                let (control, order) = switch fault {
                case .contractsKilled: (usersControl, "kill \(api.runner.dataDirectory) contracts-create")
                case .answerLost: (contractsControl, "drop")
                }
                try order.write(toFile: control + "/fault", atomically: true, encoding: .utf8)
                let first = try await api.call(.POST, "/proposals/\(proposalId)/accept", token: company.accessToken)
                #expect(!FileManager.default.fileExists(atPath: control + "/fault"), "the fault struck")
                // The service client's own retry (same idempotency key) may already have finished it; if not,
                // the hire waits for its contract and the company repeats the accept.
                if first.status != 201 {
                    #expect([502, 503, 504].contains(first.status), "\(first.status) \(first.text)")
                    let waiting = try await api.call(.GET, "/jobs/hires", token: company.accessToken).json(Page<Hire>.self).items
                    #expect(waiting.map(\.status) == ["contracting"])
                    let repeated = try await api.call(.POST, "/proposals/\(proposalId)/accept", token: company.accessToken)
                    #expect(repeated.status == 201 || repeated.status == 200, "\(repeated.status) \(repeated.text)")
                }
                // The fault hit the contracts service itself: its worker died under the call, or it answered twice.
                let create = try await api.runner.pool("contracts-create")
                switch fault {
                case .contractsKilled: #expect(create.crashes >= 1, "\(create.crashes) crashes, \(create.invocations) invocations")
                case .answerLost: #expect(create.invocations >= 2 && create.crashes == 0, "\(create.invocations) invocations")
                }
                let hires = try await api.call(.GET, "/jobs/hires", token: company.accessToken).json(Page<Hire>.self).items
                #expect(hires.count == 1 && hires.first?.status == "active")
                let made = try await api.call(.GET, "/contracts", token: company.accessToken).json(Page<Contract>.self).items
                #expect(made.count == 1, "\(made)")
                #expect(made.first?.id == hires.first?.contractId && made.first?.proposalId == proposalId)
            }
        }
        }
    }
}
