import BlytzManifest
import BlytzTesting
import Foundation
import Testing

/// `blytz new`'s refusals and its edits, on a scratch copy of the files it changes. That what it writes
/// builds and passes is `local/tools/check_scaffold.sh`'s to show (it needs a build of its own).
@Suite struct ScaffoldTests {
    /// A scratch project: the files `blytz new` reads and changes, copied from this one.
    static func scratch() throws -> String {
        let root = NSTemporaryDirectory() + "scaffold-\(UUID().uuidString)"
        for file in ["Package.swift", "functions.yaml", "Sources/BlytzEvents/People.swift", "Sources/Marketplace/Marketplace.swift"] {
            let target = URL(fileURLWithPath: root + "/" + file)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: file), to: target)
        }
        return root
    }

    static func contents(_ root: String, _ file: String) -> String {
        (try? String(contentsOfFile: root + "/" + file, encoding: .utf8)) ?? ""
    }

    @Test func aNewServiceIsDeclaredEverywhereItMustBe() throws {
        let root = try Self.scratch()
        let made = try blytz(["new", "service", "reports", "--root", root])
        #expect(made.status == 0, "\(made.output)")
        let manifest = try Manifest.load(path: root + "/functions.yaml")
        let service = try #require(manifest.services.first { $0.name == "reports" })
        #expect(service.port == 3007 && service.database == "reports_db" && service.executable == "reports")
        #expect(manifest.function(named: "reports-on-account-status")?.handler == "BlytzServices.AccountStatusConsumer")
        #expect(Self.contents(root, "Package.swift").contains(#""Files", "Reports"]"#))
        #expect(Self.contents(root, "Package.swift").contains(#"("ReportsTests", ["Reports"]),"#))
        #expect(Self.contents(root, "Sources/BlytzEvents/People.swift").contains("    case files\n    case reports\n}"))
        #expect(Self.contents(root, "Sources/ReportsWorker/main.swift").contains("Reports.main()"))
        #expect(Self.contents(root, "Tests/ReportsTests/ReportsTests.swift").contains("ServiceHarness<Reports>"))
        // Twice is refused, and changes nothing.
        let before = Self.contents(root, "functions.yaml")
        #expect(try blytz(["new", "service", "reports", "--root", root]).status != 0)
        #expect(Self.contents(root, "functions.yaml") == before)
    }

    @Test func aNewFunctionIsRegisteredInItsServiceAndTheManifest() throws {
        let root = try Self.scratch()
        let made = try blytz(["new", "function", "marketplace", "saved-searches", "--http", "GET /jobs/saved", "--root", root])
        #expect(made.status == 0, "\(made.output)")
        let manifest = try Manifest.load(path: root + "/functions.yaml")
        let function = try #require(manifest.function(named: "marketplace-saved-searches"))
        #expect(function.handler == "Marketplace.SavedSearches" && function.trigger == .http(method: "GET", path: try RoutePattern("/jobs/saved")))
        #expect(Self.contents(root, "Sources/Marketplace/Marketplace.swift").contains(#""marketplace-saved-searches": SavedSearches(),"#))
        #expect(Self.contents(root, "Sources/Marketplace/SavedSearches.swift").contains("struct SavedSearches: HTTPFunction"))
        #expect(Self.contents(root, "Tests/MarketplaceTests/SavedSearchesTests.swift").contains(#"call(.get, "/jobs/saved""#))
    }

    @Test(arguments: [
        (["reports", "x", "--http", "GET /x"], "no service 'reports'"),
        (["marketplace", "Bad_Name", "--http", "GET /x"], "lower-case words"),
        (["marketplace", "x", "--http", "GET /x", "--queue", "UserUpdated"], "exactly one trigger"),
        (["marketplace", "x", "--queue", "NoSuchEvent"], "not an event type"),
        (["marketplace", "x", "--schedule", "every day"], "--schedule: 'every day' has 2 fields"),
        (["marketplace", "x", "--http", "GET jobs"], "--http: 'jobs' must start with /"),
        (["marketplace", "x", "--http", "FETCH /x"], "a method and a path"),
        (["marketplace", "x", "--http", "GET /auth/login"], "would not validate"),
        (["marketplace", "on-account-status", "--queue", "UserUpdated"], "already"),
    ])
    func badRequestsAreRefusedAndWriteNothing(arguments: [String], reason: String) throws {
        let root = try Self.scratch()
        let before = Self.contents(root, "functions.yaml")
        let refused = try blytz(["new", "function"] + arguments + ["--root", root])
        #expect(refused.status != 0)
        #expect(refused.output.contains(reason), "\(refused.output)")
        #expect(Self.contents(root, "functions.yaml") == before)
        #expect(!FileManager.default.fileExists(atPath: root + "/Sources/Marketplace/X.swift"))
    }
}
