import Foundation

/// The development mailbox the communication service fills (`<data>/mail/*.json`, one mail a file, named
/// to list oldest first), as `GET /_local/mail` and `blytz mail` show it.
public enum DevMailboxFiles {
    /// `{"mail":[…]}` with every mail in the box, oldest first; `to` keeps only those sent to that address.
    public static func listing(dataDirectory: String, to recipient: String? = nil) -> Data {
        let directory = dataDirectory + "/mail"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        let mails = names.compactMap { name -> Any? in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)"), let mail = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            if let recipient, (mail["to"] as? String)?.lowercased() != recipient.lowercased() { return nil }
            return mail
        }
        return (try? JSONSerialization.data(withJSONObject: ["mail": mails], options: [.prettyPrinted, .sortedKeys])) ?? Data(#"{"mail":[]}"#.utf8)
    }
}
