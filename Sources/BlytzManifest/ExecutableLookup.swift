import Foundation

/// Where the runner finds the programs it starts as workers.
public struct ExecutableLookup: Sendable {
    /// The folder holding the built service executables (by default, the folder of `blytz` itself).
    public var binDirectory: String
    /// The folder of the manifest; relative `command` paths resolve against it.
    public var manifestDirectory: String
    /// The services whose executables must be there (nil: every service's); `blytz serve` needs only its own.
    public var required: Set<String>?

    /// Relative folders are resolved against the current directory: workers start in the manifest's folder.
    public init(binDirectory: String, manifestDirectory: String) {
        self.binDirectory = URL(fileURLWithPath: binDirectory).standardizedFileURL.path
        self.manifestDirectory = URL(fileURLWithPath: manifestDirectory).standardizedFileURL.path
    }

    /// The full path of a service executable, if it exists.
    public func executable(_ name: String) -> String? {
        let path = name.hasPrefix("/") ? name : "\(binDirectory)/\(name)"
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// A function's command with its program resolved: absolute, relative to the manifest, or on PATH.
    public func command(_ command: [String]) -> [String]? {
        guard let program = command.first else { return nil }
        var candidates: [String]
        if program.hasPrefix("/") {
            candidates = [program]
        } else if program.contains("/") {
            candidates = ["\(manifestDirectory)/\(program)"]
        } else {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            candidates = path.split(separator: ":").map { "\($0)/\(program)" }
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        return [found] + command.dropFirst()
    }
}
