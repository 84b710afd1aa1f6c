import Foundation
import Logging
import NIOCore
import NIOExtras
import NIOPosix

/// Mail through an SMTP server (`SMTP_HOST`, `SMTP_PORT`, default 25): one connection per mail, plain
/// SMTP (a relay on the same host or network, as the production setup runs one beside the service).
struct SMTPTransport: MailTransport {
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    let host: String
    let port: Int
    let heloName: String

    func send(_ mail: Mail) async throws {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound, outbound in
            var lines = inbound.makeAsyncIterator()
            func expect(_ code: String) async throws {
                while true {
                    guard let buffer = try await lines.next() else { throw Refused(description: "the server closed the connection") }
                    let line = String(buffer: buffer).trimmingCharacters(in: .whitespacesAndNewlines)
                    guard line.hasPrefix(code) else { throw Refused(description: "expected \(code), got '\(line)'") }
                    // A multi-line reply continues with "code-"; it ends with "code ".
                    if line.count <= 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " { return }
                }
            }
            func say(_ text: String, then code: String) async throws {
                try await outbound.write(ByteBuffer(string: text + "\r\n"))
                try await expect(code)
            }
            try await expect("220")
            try await say("EHLO \(heloName)", then: "250")
            try await say("MAIL FROM:<\(Self.address(mail.from))>", then: "250")
            try await say("RCPT TO:<\(Self.address(mail.to))>", then: "250")
            try await say("DATA", then: "354")
            let headers = [
                "From: \(mail.from)", "To: \(mail.to)", "Subject: \(mail.subject)", "Message-ID: <\(mail.id)@blytz.work>",
                "Date: \(Date().formatted(.iso8601))", "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
            ]
            // Dot-stuffing: a body line starting with "." gets another.
            let body = mail.body.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(".") ? "." + $0 : String($0) }
            try await say((headers + [""] + body).joined(separator: "\r\n") + "\r\n.", then: "250")
            try await outbound.write(ByteBuffer(string: "QUIT\r\n"))
        }
    }

    /// `Name <a@b>` → `a@b`.
    static func address(_ text: String) -> String {
        guard let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close else { return text }
        return String(text[text.index(after: open)..<close])
    }
}
