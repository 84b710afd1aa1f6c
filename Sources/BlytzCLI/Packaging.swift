import ArgumentParser
import BlytzManifest
import Foundation

/// `blytz package`: a Lambda deploy package per function, for `provided.al2023`.
///
/// Each service's executable is built once, in release mode with the Swift standard library and
/// Foundation linked statically, split into a stripped `bootstrap` and a separate debug-symbols file, and
/// checked to load on Amazon Linux 2023: no symbol may need a glibc newer than 2.34 (AL2023's), and only
/// libraries AL2023 has may be needed. glibc 2.35 gave `hypot` and `hypotf` new versions, and GCC 12's
/// libstdc++ `std::condition_variable::wait`, which the static Swift libraries call; the link wraps them to
/// their older versions (a small object this command compiles). Each
/// function's zip holds its service's `bootstrap` (Lambda's `Handler` picks the function, as `_HANDLER`);
/// functions of one service share one zip's bytes (hard links). `packages.json` lists what was built.
struct PackageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Build a Lambda deploy package (a zip whose bootstrap is its service's executable) per function.",
        discussion: "Writes <output>/<function>.zip, <output>/<executable>.debug and <output>/packages.json; `blytz template` names the zips."
    )

    @Argument(help: "Functions to package (default: every function served by a service executable).")
    var functions: [String] = []

    @OptionGroup var manifestOptions: ManifestOptions

    @Option(name: .shortAndLong, help: "Where to write the packages.")
    var output = SAMTemplate.defaultPackages

    /// Lambda's limits on a package uploaded as a zip.
    static let maxZipped = 50 * 1024 * 1024
    static let maxUnzipped = 250 * 1024 * 1024

    /// What the bootstrap may need at run time: glibc's libraries and GCC's runtime, which AL2023 has.
    static let allowedLibraries: Set = ["libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "ld-linux-x86-64.so.2", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1", "libutil.so.1"]

    struct Built: Codable {
        var function: String
        var service: String
        var zip: String
        var size: Int
        var sha256: String
    }

    func run() async throws {
        let manifest = try Manifest.load(path: manifestOptions.manifest)
        let packageDirectory = URL(fileURLWithPath: manifestOptions.manifest).deletingLastPathComponent().path
        let chosen = try functions.isEmpty ? manifest.functions.filter { $0.command == nil } : functions.map { name in
            guard let function = manifest.function(named: name) else { throw ValidationError("there is no function '\(name)' in \(manifestOptions.manifest)") }
            guard function.command == nil else { throw ValidationError("'\(name)' runs its own command, not a service executable") }
            return function
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let output = URL(fileURLWithPath: self.output).standardizedFileURL.path
        let compat = try Self.compileCompat(in: output)
        var executables: [String: (service: String, zip: String, size: Int, sha256: String)] = [:]
        for function in chosen {
            guard let service = manifest.service(named: function.service), executables[service.executable] == nil else { continue }
            executables[service.executable] = try Self.build(service.executable, service: service.name, in: packageDirectory, compat: compat, output: output)
        }
        var built: [Built] = []
        for function in chosen {
            guard let service = manifest.service(named: function.service), let made = executables[service.executable] else { continue }
            let zip = "\(output)/\(function.name).zip"
            try? FileManager.default.removeItem(atPath: zip)
            try FileManager.default.linkItem(atPath: made.zip, toPath: zip)
            built.append(Built(function: function.name, service: made.service, zip: zip, size: made.size, sha256: made.sha256))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(built).write(to: URL(fileURLWithPath: "\(output)/packages.json"))
        for (executable, made) in executables.sorted(by: { $0.key < $1.key }) {
            print("\(executable): \(made.size) bytes zipped, sha256 \(made.sha256)")
        }
        print("\(built.count) packages in \(output) (packages.json)")
    }

    /// Builds `executable` for Lambda and zips its bootstrap; answers the zip, its size and digest. The build
    /// has a folder of its own (`.build/static`): sharing `.build/release` with `./local/run`'s dynamically
    /// linked build would rebuild every module at each switch.
    static func build(_ executable: String, service: String, in directory: String, compat: String, output: String) throws -> (service: String, zip: String, size: Int, sha256: String) {
        let flags = ["-c", "release", "--static-swift-stdlib", "--scratch-path", ".build/static", "--product", executable, "-Xlinker", compat]
            + wrapped.flatMap { ["-Xlinker", "--wrap=\($0)"] }
        try run("swift", ["build"] + flags, in: directory)
        let binPath = try run("swift", ["build"] + flags + ["--show-bin-path"], in: directory).trimmingCharacters(in: .whitespacesAndNewlines)
        let staging = "\(output)/\(executable)"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        let bootstrap = "\(staging)/bootstrap"
        let debug = "\(output)/\(executable).debug"
        try FileManager.default.copyItem(atPath: "\(binPath)/\(executable)", toPath: bootstrap)
        try run("objcopy", ["--only-keep-debug", bootstrap, debug], in: output)
        try run("objcopy", ["--strip-debug", "--strip-unneeded", "--add-gnu-debuglink=\(debug)", bootstrap], in: output)
        try check(bootstrap)
        let unzipped = try FileManager.default.attributesOfItem(atPath: bootstrap)[.size] as? Int ?? 0
        guard unzipped <= maxUnzipped else { throw ValidationError("\(executable)'s bootstrap is \(unzipped) bytes, over Lambda's \(maxUnzipped) unzipped") }
        let zip = "\(output)/\(executable).zip"
        try? FileManager.default.removeItem(atPath: zip)
        try run("zip", ["-q", "-9", "-X", "-j", zip, bootstrap], in: output)
        let size = try FileManager.default.attributesOfItem(atPath: zip)[.size] as? Int ?? 0
        guard size <= maxZipped else { throw ValidationError("\(executable)'s zip is \(size) bytes, over Lambda's \(maxZipped)") }
        let digest = try run("sha256sum", [zip], in: output).split(separator: " ").first.map(String.init) ?? ""
        return (service, zip, size, digest)
    }

    /// The newest symbol version AL2023 has of each versioned library (glibc 2.34; GCC 11's libstdc++).
    static let newestVersions: [(prefix: String, newest: [Int])] = [("GLIBC_", [2, 34]), ("GLIBCXX_", [3, 4, 29]), ("CXXABI_", [1, 3, 13])]

    /// Refuses a bootstrap that needs a symbol version newer than AL2023's (`objdump -T`), or a library
    /// AL2023 lacks (`objdump -p`).
    static func check(_ bootstrap: String) throws {
        let symbols = try run("objdump", ["-T", bootstrap], in: "/")
        let newer = symbols.split(separator: "\n").filter { line in
            newestVersions.contains { prefix, newest in
                guard let range = line.range(of: prefix, options: .literal) else { return false }
                let version = line[range.upperBound...].prefix { $0.isNumber || $0 == "." }.split(separator: ".").compactMap { Int($0) }
                return newest.lexicographicallyPrecedes(version)
            }
        }
        guard newer.isEmpty else { throw ValidationError("\(bootstrap) needs symbol versions newer than AL2023 has:\n" + newer.joined(separator: "\n")) }
        let needed = try run("objdump", ["-p", bootstrap], in: "/").split(separator: "\n")
            .filter { $0.contains("NEEDED") }.compactMap { $0.split(separator: " ").last.map(String.init) }
        let missing = needed.filter { !allowedLibraries.contains($0) }
        guard missing.isEmpty else { throw ValidationError("\(bootstrap) needs libraries AL2023 does not have: \(missing.joined(separator: ", "))") }
    }

    /// The symbols this machine's glibc (2.36) and libstdc++ (GCC 12) version newer than AL2023's, which
    /// the static Swift libraries call; the link wraps each (`--wrap`) to its older version.
    static let wrapped = ["hypot", "hypotf", "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE"]

    /// Compiles the wrappers that bind the `wrapped` symbols to the versions AL2023 has.
    static func compileCompat(in output: String) throws -> String {
        let source = """
            /* Calls of these symbols, wrapped at link time (--wrap), go to versions glibc and libstdc++ have had for
               years (hypot since glibc 2.2.5, std::condition_variable::wait since GLIBCXX_3.4.11), so the
               executable loads on Amazon Linux 2023 (glibc 2.34, GCC 11). */
            extern double blytz_hypot_old(double, double);
            extern float blytz_hypotf_old(float, float);
            extern void blytz_wait_old(void *, void *);
            __asm__(".symver blytz_hypot_old,hypot@GLIBC_2.2.5");
            __asm__(".symver blytz_hypotf_old,hypotf@GLIBC_2.2.5");
            __asm__(".symver blytz_wait_old,_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
            double __wrap_hypot(double x, double y) { return blytz_hypot_old(x, y); }
            float __wrap_hypotf(float x, float y) { return blytz_hypotf_old(x, y); }
            void __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *condition, void *lock) { blytz_wait_old(condition, lock); }

            """
        let path = "\(output)/glibc-compat.c"
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        try run("cc", ["-O2", "-fPIC", "-c", path, "-o", "\(output)/glibc-compat.o"], in: output)
        return "\(output)/glibc-compat.o"
    }

    /// Runs `tool arguments…` in `directory` (its standard error goes to ours); answers its standard
    /// output, or throws with it.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], in directory: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(tool) \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)):\n\(text.suffix(4_000))")
        }
        return text
    }
}
