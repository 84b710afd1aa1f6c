#if canImport(Glibc)
import BlytzEvents
import Glibc
#endif
import BlytzData
import Communication
import BlytzTesting
import Foundation
import HTTPTypes
import NIOHTTP1
import SQLKit
import Testing

@testable import BlytzRunner


/// The communication service through the running runner, with real WebSocket clients, on SQLite and on
/// PostgreSQL (databases and event queue).
@Suite(.serialized, .timeLimit(.minutes(3))) struct CommunicationTests {
    struct Conversation: Decodable { var id: String; var unreadCount: Int }
    struct Message: Decodable { var id: String; var content: String; var status: String; var deleted: Bool }
    struct Page<Item: Decodable>: Decodable { var items: [Item]; var nextCursor: String? }

    func person(_ api: Backend, _ role: String, name: String) async throws -> (session: Backend.Session, id: String) {
        let session = try await api.register(role)
        let profile = role == "va"
            ? #"{"name":"\#(name)","country":"PH","hourlyRateCents":900,"skills":["Excel"]}"#
            : #"{"name":"\#(name)","country":"US","industry":"retail"}"#
        #expect(try await api.call(.POST, role == "va" ? "/profiles/va" : "/profiles/company", token: session.accessToken, json: profile).status == 201)
        return (session, try #require(session.user?.id))
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func twoUsersChatLive(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
            let (vera, veraId) = try await person(api, "va", name: "Vera Cruz")
            let (acme, acmeId) = try await person(api, "company", name: "Acme")
            let (outsider, _) = try await person(api, "va", name: "Otto")

            // A refused token never gets a connection.
            await #expect(throws: LiveSocket.Refused.self) { _ = try await LiveSocket.connect(api.socketURL("not-a-token")) }

            // Acme has two tabs open; Vera one.
            let tab1 = try await LiveSocket.connect(api.socketURL(acme.accessToken))
            let tab2 = try await LiveSocket.connect(api.socketURL(acme.accessToken))
            let veraSocket = try await LiveSocket.connect(api.socketURL(vera.accessToken))

            let opened = try await api.call(.POST, "/chat/conversations", token: vera.accessToken, json: #"{"userId":"\#(acmeId)"}"#)
            #expect(opened.status == 201 && (opened.object["otherUser"] as? [String: Any])?["displayName"] as? String == "Acme")
            let conversation = try opened.json(Conversation.self)
            let again = try await api.call(.POST, "/chat/conversations", token: acme.accessToken, json: #"{"userId":"\#(veraId)"}"#)
            let againId = try again.json(Conversation.self).id
            #expect(again.status == 200 && againId == conversation.id)

            // A refused first send starts the function's worker, so the second below measures delivery, not a cold start.
            #expect(try await api.call(.POST, "/chat/conversations/\(conversation.id)/messages", token: vera.accessToken, json: #"{"content":""}"#).status == 422)
            let started = ContinuousClock.now
            let sent = try await api.call(.POST, "/chat/conversations/\(conversation.id)/messages", token: vera.accessToken, json: #"{"content":"Hi Acme!"}"#)
            #expect(sent.status == 201)
            let message = try sent.json(Message.self)
            // Pushed, not polled: both tabs have it within moments of the send (a few seconds on a loaded machine).
            let first = await tab1.message(containing: message.id, within: .seconds(8))
            let second = await tab2.message(containing: message.id, within: .seconds(8))
            #expect(first?.contains(#""type":"message.new""#) == true && second != nil && started.duration(to: .now) < .seconds(8))
            #expect(message.status == "delivered")

            let unread = try await api.call(.GET, "/chat/unread-count", token: acme.accessToken).object
            #expect(unread["total"] as? Int == 1)
            let listed = try await api.call(.GET, "/chat/conversations", token: acme.accessToken).json(Page<Conversation>.self)
            #expect(listed.items.map(\.id) == [conversation.id] && listed.items.first?.unreadCount == 1)

            // Typing is relayed; ping answers pong.
            try await veraSocket.send(#"{"action":"typing","conversationId":"\#(conversation.id)"}"#)
            #expect(await tab1.message(containing: #""type":"typing""#) != nil)
            try await veraSocket.send(#"{"action":"ping"}"#)
            #expect(await veraSocket.message(containing: "pong") != nil)

            // Read receipts: only the recipient; the sender hears of it.
            #expect(try await api.call(.POST, "/chat/messages/\(message.id)/read", token: vera.accessToken).status == 403)
            let receipt = try await api.call(.POST, "/chat/messages/\(message.id)/read", token: acme.accessToken)
            #expect(receipt.status == 200 && receipt.object["marked"] as? Int == 1)
            #expect(await veraSocket.message(containing: #""type":"message.read""#) != nil)
            #expect(try await api.call(.GET, "/chat/unread-count", token: acme.accessToken).object["total"] as? Int == 0)

            // An outsider gets 404 on every chat route of this conversation, and typing into it goes nowhere.
            for (method, path, body) in [
                (HTTPMethod.GET, "/chat/conversations/\(conversation.id)/messages", nil as String?),
                (.POST, "/chat/conversations/\(conversation.id)/messages", #"{"content":"let me in"}"#),
                (.POST, "/chat/messages/\(message.id)/read", nil), (.DELETE, "/chat/messages/\(message.id)", nil),
            ] {
                let reply = try await api.call(method, path, token: outsider.accessToken, json: body)
                #expect(reply.status == 404, "\(method) \(path) answered \(reply.status) to an outsider")
            }
            #expect(try await api.call(.GET, "/chat/conversations", token: outsider.accessToken).json(Page<Conversation>.self).items.isEmpty)

            // Only the sender deletes; the message keeps its place without content.
            #expect(try await api.call(.DELETE, "/chat/messages/\(message.id)", token: acme.accessToken).status == 403)
            #expect(try await api.call(.DELETE, "/chat/messages/\(message.id)", token: vera.accessToken).status == 204)

            // Offline: what is sent while Acme has no connection is there when Acme lists.
            await tab1.close()
            await tab2.close()
            #expect(try await api.call(.POST, "/chat/conversations/\(conversation.id)/messages", token: vera.accessToken, json: #"{"content":"Are you there?"}"#).status == 201)
            let messages = try await api.call(.GET, "/chat/conversations/\(conversation.id)/messages?limit=1", token: acme.accessToken).json(Page<Message>.self)
            #expect(messages.items.map(\.content) == ["Are you there?"] && messages.nextCursor != nil)
            let older = try await api.call(.GET, "/chat/conversations/\(conversation.id)/messages?limit=1&cursor=\(messages.nextCursor ?? "")", token: acme.accessToken)
                .json(Page<Message>.self)
            #expect(older.items.map(\.deleted) == [true] && older.items.first?.content == "")

            // Bad input: named fields, never a 500.
            #expect(try await api.call(.POST, "/chat/conversations", token: vera.accessToken, json: #"{"userId":"nope"}"#).problemFields == ["userId"])
            #expect(try await api.call(.POST, "/chat/conversations", token: vera.accessToken, json: #"{"userId":"\#(veraId)"}"#).problemFields == ["userId"])
            #expect(try await api.call(.POST, "/chat/conversations", token: vera.accessToken, json: #"{"userId":"\#(UUID().uuidString)"}"#).status == 404)
            #expect(try await api.call(.POST, "/chat/conversations/\(conversation.id)/messages", token: vera.accessToken, json: #"{"content":"  "}"#).problemFields == ["content"])
            #expect(try await api.call(.GET, "/chat/conversations").status == 401)
            await veraSocket.close()
        }
    }

    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func eventsBecomeNotificationsPushedLiveOnceEach(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
            let (vera, veraId) = try await person(api, "va", name: "Vera Cruz")
            let (acme, acmeId) = try await person(api, "company", name: "Acme")
            // The directory learns Vera's name from ProfileUpdated.
            #expect(await eventually(within: .seconds(10)) {
                (try? await api.communicationDatabase { database in
                    try await database.withConnection { sql in
                        struct Row: Decodable { var display_name: String? }
                        return try await sql.select().column("display_name").from("user_directory").where("user_id", .equal, SQLBind(veraId)).first(decoding: Row.self)?.display_name
                    }
                }) == "Vera Cruz"
            })
            let socket = try await LiveSocket.connect(api.socketURL(acme.accessToken))
            let proposal = UUID().uuidString.lowercased()
            let event = #"{"type":"ProposalSubmitted","data":{"proposalId":"\#(proposal)","jobPostingId":"j1","jobTitle":"Shopify support","companyUserId":"\#(acmeId)","vaUserId":"\#(veraId)"}}"#
            #expect(try await api.runner.post("/_local/events", json: event).status == 202)
            // Acme's own welcome notification may be pushed first: wait for the proposal's.
            let pushed = await socket.message(containing: "Vera Cruz sent a proposal for your job “Shopify support”.", within: .seconds(10))
            #expect(pushed?.contains("notification.new") == true)

            // The same event delivered twice (at least once is the contract) makes one notification.
            let envelope = #"{"id":"evt-dup-1","type":"ProposalSubmitted","source":"marketplace","time":"2026-11-24T10:00:00.000Z","subject":"p","data":{"proposalId":"p2","jobPostingId":"j1","companyUserId":"\#(acmeId)","vaUserId":"\#(veraId)"}}"#
            let batch = #"{"Records":[{"messageId":"m1","receiptHandle":"r1","body":\#(jsonString(envelope)),"attributes":{"ApproximateReceiveCount":"1"},"messageAttributes":{},"md5OfBody":"","eventSource":"blytz:events","eventSourceARN":"local","awsRegion":"local"}]}"#
            for _ in 0..<2 {
                #expect(try blytz(["invoke", "communication-on-proposal-submitted", "--event", batch, "--gateway", api.runner.urls.gateway]).status == 0)
            }
            struct Note: Decodable { var id: String; var type: String; var message: String; var read: Bool; var link: String? }
            let notes = try await api.call(.GET, "/notifications?limit=100", token: acme.accessToken).json(Page<Note>.self).items.filter { $0.type == "ProposalSubmitted" }
            #expect(notes.count == 2)

            // Preferences: in-app off for proposals means no notification; mail on for payments reaches the mailbox.
            let put = try await api.call(.PUT, "/notifications/preferences", token: acme.accessToken, json: #"{"preferences":[{"type":"ProposalSubmitted","inApp":false},{"type":"PaymentCompleted","email":true}]}"#)
            #expect(put.status == 200)
            let bad = try await api.call(.PUT, "/notifications/preferences", token: acme.accessToken, json: #"{"preferences":[{"type":"Nope"},{"type":"PasswordResetRequested","email":false}]}"#)
            #expect(Set(bad.problemFields) == ["preferences[0].type", "preferences[1].email"])
            #expect(try await api.runner.post("/_local/events", json: event).status == 202)
            let payment = PaymentCompleted(paymentId: "pay1", payerUserId: acmeId, payeeUserId: veraId, contractId: nil, milestoneId: nil, invoiceId: nil, amountCents: 125000, currency: "USD", escrow: false)
            #expect(try await api.runner.publish(payment).status == 202)
            let acmeEmail = try #require(acme.user?.email)
            #expect(await eventually(within: .seconds(10)) {
                String(decoding: DevMailboxFiles.listing(dataDirectory: api.runner.dataDirectory, to: acmeEmail), as: UTF8.self).contains("Your payment of USD 1,250.00 to Vera Cruz went through.")
            })
            #expect(await socket.message(containing: "Payment sent") != nil)
            let afterPrefs = try await api.call(.GET, "/notifications?limit=100", token: acme.accessToken).json(Page<Note>.self).items
            #expect(afterPrefs.filter { $0.type == "ProposalSubmitted" }.count == 2)

            // Password reset: mail with the link, no in-app notification.
            #expect(try await api.call(.POST, "/auth/password/forgot", json: #"{"email":"\#(try #require(vera.user?.email))"}"#).status == 202)
            #expect(await eventually(within: .seconds(10)) {
                String(decoding: DevMailboxFiles.listing(dataDirectory: api.runner.dataDirectory, to: vera.user?.email), as: UTF8.self).contains("reset-password?token=")
            })

            // Read, read-all, delete: the owner's only.
            let first = try #require(afterPrefs.first)
            #expect(try await api.call(.POST, "/notifications/\(first.id)/read", token: vera.accessToken).status == 404)
            #expect(try await api.call(.POST, "/notifications/\(first.id)/read", token: acme.accessToken).object["read"] as? Bool == true)
            let unreadBefore = try await api.call(.GET, "/notifications?unread=true&limit=100", token: acme.accessToken).json(Page<Note>.self).items.count
            let readAll = try await api.call(.POST, "/notifications/read-all", token: acme.accessToken)
            #expect(readAll.status == 200 && readAll.object["marked"] as? Int == unreadBefore && unreadBefore > 0)
            #expect(try await api.call(.GET, "/notifications?unread=true", token: acme.accessToken).json(Page<Note>.self).items.isEmpty)
            #expect(try await api.call(.DELETE, "/notifications/\(first.id)", token: vera.accessToken).status == 404)
            #expect(try await api.call(.DELETE, "/notifications/\(first.id)", token: acme.accessToken).status == 204)

            // The audit log has every event of every type.
            let audited = await eventually(within: .seconds(10)) {
                let types: [String] = (try? await api.communicationDatabase { database -> [String] in
                    try await database.withConnection { sql -> [String] in
                        struct Row: Decodable { var type: String }
                        return try await sql.select().column("type").from("audit_log").all(decoding: Row.self).map(\.type)
                    }
                }) ?? []
                let expected: Set<String> = ["UserCreated", "ProfileUpdated", "ProposalSubmitted", "PaymentCompleted", "PasswordResetRequested"]
                return expected.isSubset(of: Set(types))
            }
            #expect(audited)
            await socket.close()
        }
    }

    /// A consumer worker SIGKILLed in the middle of a batch: every event still becomes exactly one notification.
    @Test(arguments: [ServiceDatabase.Engine.sqlite, .postgres])
    func aKilledConsumerLosesAndRepeatsNoNotification(engine: ServiceDatabase.Engine) async throws {
        try await Backend.with(engine) { api in
            let (_, acmeId) = try await person(api, "company", name: "Acme")
            let consumer = "communication-on-review-posted"
            let count = 300
            try await api.communicationDatabase { database in
                @Sendable func notifications() async -> Int {
                    (try? await database.withConnection { sql in
                        struct Row: Decodable { var n: Int }
                        return try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("notifications")
                            .where("user_id", .equal, SQLBind(acmeId)).where("type", .equal, SQLBind("ReviewPosted")).first(decoding: Row.self)?.n ?? 0
                    }) ?? 0
                }
                // Published from eight clients at once, so the consumer has a backlog and works in full batches.
                async let published: Void = withThrowingTaskGroup(of: Void.self) { group in
                    for client in 0..<8 {
                        group.addTask {
                            for index in stride(from: client, to: count, by: 8) {
                                _ = try await api.runner.publish(ReviewPosted(reviewId: "r\(index)", contractId: UUID().uuidString, reviewerUserId: UUID().uuidString, targetUserId: acmeId, rating: 5))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                // Killed while it is busy with a batch, some of whose events are committed and some not.
                var killed = false
                let deadline = ContinuousClock.now + .seconds(20)
                while !killed, ContinuousClock.now < deadline {
                    let busy = (try? await api.runner.pool(consumer).workers.busy) ?? 0
                    let done = await notifications()
                    let pids = workerPIDs(function: consumer, dataDirectory: api.runner.dataDirectory)
                    if busy > 0, done > 0, done < count, !pids.isEmpty {
                        for pid in pids { kill(pid, SIGKILL) }
                        killed = true
                    }
                    try await Task.sleep(for: .milliseconds(2))
                }
                try await published
                #expect(killed, "no worker was caught mid-batch")
                #expect(await eventually(within: .seconds(30)) { await notifications() == count })
                #expect(await eventually(within: .seconds(30)) { (try? await api.runner.queueIsDrained(for: consumer)) == true })
                #expect(await notifications() == count)
            }
        }
    }
}

/// `text` as a JSON string literal.
func jsonString(_ text: String) -> String {
    String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
}

extension CommunicationTests {
    /// With the user service unreachable, chat goes on with the user details the directory keeps; a user it
    /// has never heard of is a quick 503.
    @Test func chatWorksWithKeptUserDetailsWhileTheUserServiceIsDown() async throws {
        let proxy = SwitchableProxy()
        try await proxy.serve { port in
            try await Backend.with(.sqlite, environment: [
                "COMMUNICATION_BLYTZ_SERVICE_URL_USERS": "http://127.0.0.1:\(port)", "COMMUNICATION_DIRECTORY_TTL_SECONDS": "0",
                "COMMUNICATION_BLYTZ_CALL_TIMEOUT_MS": "500",
            ]) { api in
                proxy.target = api.runner.urls.services["users"]
                let (vera, _) = try await person(api, "va", name: "Vera Cruz")
                let (_, acmeId) = try await person(api, "company", name: "Acme")
                let opened = try await api.call(.POST, "/chat/conversations", token: vera.accessToken, json: #"{"userId":"\#(acmeId)"}"#)
                #expect(opened.status == 201)
                let conversation = try opened.json(Conversation.self)
                #expect(try await api.call(.POST, "/chat/conversations/\(conversation.id)/messages", token: vera.accessToken, json: #"{"content":"one"}"#).status == 201)
                #expect(try await api.call(.GET, "/chat/conversations", token: vera.accessToken).status == 200)

                proxy.up = false
                let again = try await api.call(.POST, "/chat/conversations", token: vera.accessToken, json: #"{"userId":"\#(acmeId)"}"#)
                #expect(again.status == 200 && (again.object["otherUser"] as? [String: Any])?["displayName"] as? String == "Acme")
                #expect(try await api.call(.POST, "/chat/conversations/\(conversation.id)/messages", token: vera.accessToken, json: #"{"content":"two"}"#).status == 201)
                let listed = try await api.call(.GET, "/chat/conversations", token: vera.accessToken)
                #expect(listed.status == 200 && listed.text.contains("Acme"))
                let started = ContinuousClock.now
                let stranger = try await api.call(.POST, "/chat/conversations", token: vera.accessToken, json: #"{"userId":"\#(UUID().uuidString)"}"#)
                #expect(stranger.status == 503 && started.duration(to: .now) < .seconds(2))
            }
        }
    }
}

extension CommunicationTests {
    /// With `SMTP_HOST` set, mail goes to a real SMTP server.
    @Test func mailGoesThroughSMTPWhenConfigured() async throws {
        let directory = NSTemporaryDirectory() + "blytz-smtp-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sink = Process()
        sink.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sink.arguments = ["python3", "Tests/Fixtures/smtp_sink.py", directory]
        sink.standardOutput = FileHandle.nullDevice
        sink.standardError = FileHandle.nullDevice
        try sink.run()
        // SIGKILL: the test process's children may inherit an ignored SIGTERM.
        defer { sink.kill() }
        func read(_ name: String) -> String { (try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)) ?? "" }
        #expect(await eventually(within: .seconds(10)) { Int(read("port")) != nil })
        let port = try #require(Int(read("port")))
        try await Backend.with(.sqlite, environment: ["COMMUNICATION_SMTP_HOST": "127.0.0.1", "COMMUNICATION_SMTP_PORT": "\(port)"]) { api in
            let session = try await api.register("va")
            let email = try #require(session.user?.email)
            #expect(try await api.call(.POST, "/auth/password/forgot", json: #"{"email":"\#(email)"}"#).status == 202)
            #expect(await eventually(within: .seconds(15)) { read("received").contains("Reset your BlytzWork password") })
            let reset = read("received").split(separator: "\n").first { $0.contains("Reset your BlytzWork password") } ?? ""
            #expect(reset.contains(email) && reset.contains("reset-password?token="))
        }
    }
}
