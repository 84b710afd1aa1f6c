import BlytzData
import BlytzTesting
import Foundation
import NIOHTTP1
import Testing

/// The dashboard at `/_local/`, in a real headless Chromium: it loads with no console errors, shows a
/// request made while it is open without a reload, opens its trace across two services and an event's
/// consumers, replays a dead letter that is then delivered, and sends a request as a signed-in user.
@Suite(.serialized, .timeLimit(.minutes(5))) struct DashboardTests {
    struct Item: Decodable { var id: String }
    struct Page<Element: Decodable>: Decodable { var items: [Element] }

    /// Where the screenshots go (the README shows one).
    static let screenshots = FileManager.default.currentDirectoryPath + "/.build/screenshots"

    @Test func showsRequestsLiveAndOpensTheirTraceAcrossServicesAndConsumers() async throws {
        try await Backend.with(.sqlite) { api in
            try await Browser.with { browser in
                try await browser.open(api.runner.urls.gateway + "/_local/#invocations")
                #expect(try await browser.waitFor("#live.on"))
                #expect(try await browser.consoleErrors() == [])

                // A request made while the page is open appears without a reload, its secrets masked.
                let password = "correct horse battery"
                let registered = try await api.call(.POST, "/auth/register", json: #"{"email":"acme@example.com","password":"\#(password)","role":"company"}"#)
                #expect(registered.status == 201)
                let requestId = try #require(registered.headers["x-request-id"])
                #expect(try await browser.waitFor("#invocations tr[data-request-id='\(requestId)']"))
                try await browser.click("#invocations tr[data-request-id='\(requestId)']")
                #expect(try await browser.waitFor("#detail-response"))
                let request = try await browser.text("#detail-request")
                #expect(request.contains("acme@example.com") && request.contains("••••••") && !request.contains(password))
                #expect(try await browser.text("#detail-response").contains("\"accessToken\": \"••••••\""))

                // A request that crosses two services and publishes an event: its trace, and the consumers'.
                let company = try await api.call(.POST, "/auth/login", json: #"{"email":"acme@example.com","password":"\#(password)"}"#).json(Backend.Session.self).accessToken
                #expect(try await api.call(.POST, "/profiles/company", token: company, json: #"{"name":"Acme","country":"US","industry":"retail"}"#).status == 201)
                let va = try await api.register("va").accessToken
                #expect(try await api.call(
                    .POST, "/profiles/va", token: va,
                    json: #"{"name":"Vera","country":"PH","timezone":"Asia/Manila","hourlyRateCents":1000,"skills":["Zendesk"]}"#
                ).status == 201)
                let job = #"{"title":"Support on Zendesk","description":"Tickets and email.","jobType":"hourly","rateMinCents":800,"rateMaxCents":1500,"skillsRequired":["zendesk"],"status":"open"}"#
                let jobId = try await api.call(.POST, "/jobs", token: company, json: job).json(Item.self).id
                let proposal = #"{"jobPostingId":"\#(jobId)","coverLetter":"I know Zendesk well.","bidType":"hourly","hourlyRateCents":1200}"#
                #expect(try await eventually { try await api.call(.POST, "/proposals", token: va, json: proposal).status == 201 })
                let proposalId = try #require(try await api.call(.GET, "/proposals?jobPostingId=\(jobId)", token: company).json(Page<Item>.self).items.first?.id)
                let accepted = try await api.call(.POST, "/proposals/\(proposalId)/accept", token: company)
                #expect(accepted.status == 201)
                let acceptId = try #require(accepted.headers["x-request-id"])
                #expect(try await browser.waitFor("#invocations tr[data-request-id='\(acceptId)']"))
                try await browser.click("#invocations tr[data-request-id='\(acceptId)']")
                #expect(try await browser.waitFor("#open-trace"))
                try await browser.click("#open-trace")
                // Spans arrive from each process within a fraction of a second; the page is asked again until all are there.
                let wanted = [
                    ".span-row[data-service='runner'][data-kind='SPAN_KIND_SERVER']",
                    ".span-row[data-service='marketplace'][data-name='marketplace-proposals-accept']",
                    ".span-row[data-service='contracts'][data-kind='SPAN_KIND_SERVER']",
                    ".span-row[data-kind='SPAN_KIND_PRODUCER'][data-name='publish ProposalAccepted']",
                    ".span-row[data-name='handle ProposalAccepted']",
                    ".span-row[data-service='runner'][data-kind='SPAN_KIND_CONSUMER']",
                ]
                let complete = try await eventually(within: .seconds(20)) {
                    for selector in wanted where try await !browser.exists(selector) {
                        try await browser.click("#trace-open")
                        try? await Task.sleep(for: .milliseconds(300))
                        return false
                    }
                    return true
                }
                let shown = try await browser.text("#trace")
                #expect(complete, "\(shown)")
                try await browser.screenshot(to: Self.screenshots + "/dashboard-trace.png")

                // The API view: sign in, then send a request as that user.
                try await browser.open(api.runner.urls.gateway + "/_local/#api")
                #expect(try await browser.waitFor(".op[data-operation='users-me']"))
                try await browser.type("#login-email", "acme@example.com")
                try await browser.type("#login-password", password)
                try await browser.click("#login")
                #expect(try await eventually { try await browser.text("#login-note").contains("Signed in as acme@example.com") })
                try await browser.click(".op[data-operation='users-me']")
                try await browser.click("#api-send")
                #expect(try await eventually { try await browser.exists("#api-answer[data-status='200']") })
                #expect(try await browser.text("#api-answer").contains("acme@example.com"))
                try await browser.screenshot(to: Self.screenshots + "/dashboard-api.png")
                try await browser.open(api.runner.urls.gateway + "/_local/#invocations")
                #expect(try await browser.waitFor("#invocations tr[data-request-id]"))
                try await browser.screenshot(to: Self.screenshots + "/dashboard-invocations.png")
                #expect(try await browser.consoleErrors() == [])
            }
        }
    }

    @Test func aDeadLetterIsReplayedFromThePageAndThenDelivered() async throws {
        try await withRunner { runner in
            try await Browser.with { browser in
                try await browser.open(runner.urls.gateway + "/_local/#events")
                #expect(try await browser.waitFor("#queues tr[data-function='fx-queue']"))
                // Fails every attempt until the file exists: dead-lettered after maxRetries.
                let gate = NSTemporaryDirectory() + "blytz-gate-\(UUID().uuidString)"
                let published = try await runner.post("/_local/events", json: #"{"type":"ThingHappened","data":{"n":1,"failUntil":"\#(gate)"}}"#)
                #expect(published.status == 202)
                struct Published: Decodable { var id: String }
                let eventId = try published.json(Published.self).id
                let row = "#dead-letters tr.dead[data-event-id='\(eventId)']"
                // The events view refreshes as invocations come in.
                #expect(try await browser.waitFor(row, within: .seconds(20)))
                FileManager.default.createFile(atPath: gate, contents: Data())
                defer { try? FileManager.default.removeItem(atPath: gate) }
                try await browser.click(row + " button.replay")
                #expect(try await eventually(within: .seconds(15)) { runner.deliveredEvents(to: "fx-queue").contains(eventId) })
                #expect(try await eventually { try await !browser.exists(row) })
                #expect(try await browser.consoleErrors() == [])
            }
        }
    }
}
