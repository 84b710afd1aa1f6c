#if canImport(Glibc)
import BlytzEvents
import Glibc
#endif
import Blytz
import BlytzTesting
import Foundation
import Testing

@testable import BlytzRunner

/// The fixtures manifest the runner tests serve.
let fixturesManifest = "Tests/Fixtures/fixtures.yaml"

/// Starts a runner on the fixtures, runs `body`, and always stops it.
func withRunner<T>(
    manifest: String = fixturesManifest, arguments: [String] = [], environment: [String: String] = [:], dataDirectory: String? = nil,
    _ body: (LocalRunner) async throws -> T
) async throws -> T {
    let runner = try await LocalRunner.start(manifest: manifest, arguments: arguments, environment: environment, dataDirectory: dataDirectory)
    return try await using(runner, cleanup: { await $0.stop() }, body)
}

/// Runs `body` with `resource`, then `cleanup`, whether `body` returns or throws.
func using<Resource, T>(_ resource: Resource, cleanup: (Resource) async -> Void, _ body: (Resource) async throws -> T) async throws -> T {
    do {
        let value = try await body(resource)
        await cleanup(resource)
        return value
    } catch {
        await cleanup(resource)
        throw error
    }
}

/// Whether a process with this pid exists (and is not a zombie).
func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let status = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !status.contains(") Z ")
}

/// Waits (bounded) until `condition` holds, checking every few milliseconds; for state a timer changes.
func eventually(within limit: Duration = .seconds(5), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

extension LocalRunner {
    /// The `/_local/functions` entry of one function.
    func pool(_ name: String) async throws -> PoolSnapshot {
        struct Listing: Decodable { var functions: [PoolSnapshot] }
        let listing = try await get("/_local/functions").json(Listing.self)
        return try #require(listing.functions.first { $0.name == name })
    }
}

struct SlowReply: Decodable {
    var pid: Int32
    var waitedMs: Int
}
