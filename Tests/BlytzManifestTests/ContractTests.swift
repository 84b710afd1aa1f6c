import Blytz
import BlytzEvents
import BlytzManifest
import BlytzTesting
import Foundation
import Testing

/// `blytz validate` checks the manifest against what the built executables serve (`<executable> describe`)
/// and against the event types of the contract.
@Suite struct ContractTests {
    @Test func theRealManifestMatchesItsExecutables() throws {
        let (status, output) = try blytz(["validate", "functions.yaml"])
        #expect(status == 0, "\(output)")
    }

    @Test func aManifestTheExecutablesDoNotServeIsRefusedWithFileAndLine() throws {
        var lines = try String(contentsOfFile: "functions.yaml", encoding: .utf8).components(separatedBy: "\n")
        func line(of prefix: String) throws -> Int { try #require(lines.firstIndex { $0.hasPrefix("  \(prefix):") }) }
        let login = try line(of: "users-login")
        lines[login] = lines[login].replacingOccurrences(of: "Users.Login", with: "Users.Register")
        let review = try line(of: "users-on-review-posted")
        lines[review] = lines[review].replacingOccurrences(of: "[ReviewPosted]", with: "[ReviewPosted, ReviewDeleted]")
        let payment = try line(of: "users-on-payment-completed")
        lines[payment] = lines[payment].replacingOccurrences(of: "[PaymentCompleted]", with: "[PaymentCompleted, JobPosted]")
        let ghost = try line(of: "users-me") + 1
        lines.insert("  users-ghost:           { service: users, handler: Users.Ghost,          http: GET /auth/ghost }", at: ghost)
        let path = NSTemporaryDirectory() + "contract-\(UUID().uuidString).yaml"
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)

        let (status, output) = try blytz(["validate", path])
        #expect(status == 1)
        // Lines are 1-based; entries after the inserted one moved down by one.
        #expect(output.contains("\(path):\(login + 1): function 'users-login' names the handler Users.Register, but the executable 'users' serves it with Users.Login"), "\(output)")
        #expect(output.contains("\(path):\(ghost + 1): function 'users-ghost' is not served by the executable 'users'"), "\(output)")
        #expect(output.contains("\(path):\(review + 2): function 'users-on-review-posted' subscribes to 'ReviewDeleted', which is not an event type"), "\(output)")
        #expect(output.contains("\(path):\(payment + 2): function 'users-on-payment-completed' subscribes to 'JobPosted', but its handler Users.RecordPayment decodes only PaymentCompleted"), "\(output)")
    }

    @Test func describeListsEveryFunctionWithItsHandlerAndEvents() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LocalRunner.buildDirectory + "/communication")
        process.arguments = ["describe"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let description = try JSONDecoder().decode(ServiceDescription.self, from: data)
        #expect(description.service == "communication")
        let directory = try #require(description.functions.first { $0.name == "communication-directory" })
        #expect(directory.handler == "Communication.RefreshDirectory" && directory.kind == "queue")
        #expect(directory.events == ["UserCreated", "UserUpdated", "UserDeleted", "ProfileUpdated"])
        #expect(description.functions.first { $0.name == "communication-audit" }?.events == nil)
        #expect(description.functions.first { $0.name == "communication-ws-connect" }?.kind == "websocket")
    }
}
