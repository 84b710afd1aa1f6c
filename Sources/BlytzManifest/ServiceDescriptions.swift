import BlytzEvents
import Foundation

extension ServiceDescription {
    /// What each built service executable says it serves (`<executable> describe`), by service name.
    /// An executable that is missing or does not describe itself (not built with the service kit) is left out.
    public static func read(_ manifest: Manifest, lookup: ExecutableLookup) throws -> [String: ServiceDescription] {
        var descriptions: [String: ServiceDescription] = [:]
        for service in manifest.services {
            guard manifest.functions(of: service.name).contains(where: { $0.command == nil }), let executable = lookup.executable(service.executable) else { continue }
            let process = Process()
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["describe"]
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            process.environment = ProcessInfo.processInfo.environment.merging(["BLYTZ_SERVICE": service.name]) { $1 }
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0, let description = try? JSONDecoder().decode(ServiceDescription.self, from: data) else { continue }
            descriptions[service.name] = description
        }
        return descriptions
    }
}
