import Foundation

/// The local key every service's secret derives from (`BLYTZ_SERVICE_KEY`): made once per data directory,
/// in `<data>/service-key`, so tokens between services work across restarts. Production sets the variable.
enum LocalServiceKey {
    static func load(dataDirectory: String) -> String {
        let path = dataDirectory + "/service-key"
        if let kept = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), kept.count >= 32 {
            return kept
        }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
        try? FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        // Written aside and linked into place: concurrent first starts agree on the first key linked.
        let aside = path + ".\(getpid()).tmp"
        guard (try? key.write(toFile: aside, atomically: false, encoding: .utf8)) != nil else { return key }
        defer { unlink(aside) }
        if link(aside, path) == 0 { return key }
        return (try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? key
    }
}
