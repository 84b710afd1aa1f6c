import Blytz
import BlytzManifest
import BlytzTesting
import Foundation
import Testing

/// `blytz package` for real: a release build with the static Swift standard library, a zip within Lambda's
/// limits whose `bootstrap` loads on Amazon Linux 2023 (glibc 2.34, GCC 11) and answers under the runner.
@Suite(.timeLimit(.minutes(40))) struct PackageTests {
    struct Built: Decodable {
        var function: String
        var service: String
        var zip: String
        var size: Int
        var sha256: String
    }

    @Test func aPackagedBootstrapLoadsOnAL2023AndAnswersUnderTheRunner() async throws {
        let directory = NSTemporaryDirectory() + "package-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let output = directory + "/lambda"
        let (status, log) = try blytz(["package", "users-jwks", "--manifest", "functions.yaml", "--output", output])
        try #require(status == 0, "\(log)")

        let listed = try JSONDecoder().decode([Built].self, from: Data(contentsOf: URL(fileURLWithPath: output + "/packages.json")))
        let built = try #require(listed.first)
        #expect(listed.count == 1)
        #expect(built.function == "users-jwks")
        #expect(built.service == "users")
        #expect(FileManager.default.fileExists(atPath: output + "/users.debug"), "debug symbols are kept apart")

        // The listing tells the truth about the zip, which is within Lambda's limits.
        let size = try FileManager.default.attributesOfItem(atPath: built.zip)[.size] as? Int
        #expect(size == built.size)
        #expect(built.size <= 50 * 1024 * 1024)
        let digest = try runProcess("/usr/bin/env", ["sha256sum", built.zip])
        #expect(digest.output.split(separator: " ").first.map(String.init) == built.sha256)

        let unzipped = directory + "/package"
        let unzip = try runProcess("/usr/bin/env", ["unzip", "-q", built.zip, "-d", unzipped])
        try #require(unzip.status == 0, "\(unzip.output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: unzipped) == ["bootstrap"])
        let bootstrap = unzipped + "/bootstrap"
        #expect(FileManager.default.isExecutableFile(atPath: bootstrap))
        let unzippedSize = try #require(try FileManager.default.attributesOfItem(atPath: bootstrap)[.size] as? Int)
        #expect(unzippedSize <= 250 * 1024 * 1024)

        // Read here, not taken from the command: every versioned symbol is one AL2023 has.
        let symbols = try runProcess("/usr/bin/env", ["objdump", "-T", bootstrap])
        try #require(symbols.status == 0, "\(symbols.output)")
        let versions = Self.versions(in: symbols.output)
        #expect(versions["GLIBC"]?.isEmpty == false, "the bootstrap links glibc dynamically")
        for (library, newest) in [("GLIBC", [2, 34]), ("GLIBCXX", [3, 4, 29]), ("CXXABI", [1, 3, 13])] {
            let newer = (versions[library] ?? []).filter { newest.lexicographicallyPrecedes($0) }
            #expect(newer.isEmpty, "\(library) versions newer than AL2023's: \(newer)")
        }
        let headers = try runProcess("/usr/bin/env", ["objdump", "-p", bootstrap])
        let needed = Set(headers.output.split(separator: "\n").filter { $0.contains("NEEDED") }.compactMap { $0.split(separator: " ").last.map(String.init) })
        #expect(!needed.isEmpty)
        #expect(needed.isSubset(of: ["libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "ld-linux-x86-64.so.2", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1", "libutil.so.1"]), "\(needed)")
        #expect(!needed.contains { $0.hasPrefix("libswift") || $0.hasPrefix("libFoundation") }, "the Swift libraries are linked statically")

        // The package runs: its bootstrap as the function's command under the local runner, and it answers.
        let manifest = directory + "/functions.yaml"
        try """
            version: 1
            services:
              users: { port: 3001, executable: users, database: users_db }
            functions:
              users-jwks: { service: users, handler: Users.KeySet, http: GET /auth/jwks, command: [\(bootstrap)] }
            """.write(toFile: manifest, atomically: true, encoding: .utf8)
        try await withRunner(manifest: manifest, dataDirectory: directory + "/data") { runner in
            let reply = try await runner.get("/api/auth/jwks")
            #expect(reply.status == 200, "\(reply.text)")
            let keys = try reply.json(KeySet.self).keys
            #expect(!keys.isEmpty)
            let workers = workerPIDs(function: "users-jwks", dataDirectory: directory + "/data")
            #expect(!workers.isEmpty)
            #expect(workers.allSatisfy { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\($0)/exe")) == bootstrap })
        }
    }

    struct KeySet: Decodable {
        struct Key: Decodable { var kid: String }
        var keys: [Key]
    }

    /// The versions `objdump -T` lists per versioned library (`GLIBC_2.34` → GLIBC: [2, 34]).
    static func versions(in table: String) -> [String: [[Int]]] {
        var found: [String: [[Int]]] = [:]
        for line in table.split(separator: "\n") {
            for field in line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "(" || $0 == ")" }) {
                guard let underscore = field.lastIndex(of: "_"), ["GLIBC", "GLIBCXX", "CXXABI"].contains(field[..<underscore]) else { continue }
                let version = field[field.index(after: underscore)...].split(separator: ".").compactMap { Int($0) }
                if !version.isEmpty { found[String(field[..<underscore]), default: []].append(version) }
            }
        }
        return found
    }
}
