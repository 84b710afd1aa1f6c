import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A real headless Chromium driven over the W3C WebDriver protocol by Debian's `chromedriver`, started
/// for as long as `body` runs (`./local/test` installs both). Elements are found by CSS selector.
///
/// ```
/// try await Browser.with { browser in
///     try await browser.open(url)
///     #expect(try await browser.waitFor("#live.on"))
/// }
/// ```
public final class Browser: Sendable {
    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    let base: String

    init(base: String) {
        self.base = base
    }

    public static func with<T>(_ body: (Browser) async throws -> T) async throws -> T {
        guard let driver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"].first(where: FileManager.default.isExecutableFile) else {
            throw TestSetupError(description: "chromedriver is not installed: run the tests with ./local/test, which installs chromium and chromium-driver")
        }
        let port = try PythonServer.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: driver)
        process.arguments = ["--port=\(port)"]
        let sink = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = sink
        process.standardError = sink
        try process.run()
        defer { process.kill() }
        let driverURL = "http://127.0.0.1:\(port)"
        guard try await eventually(within: .seconds(20), { (try? await PythonServer.accepts(port)) == true }) else {
            throw TestSetupError(description: "chromedriver did not start on port \(port)")
        }
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") ? "/usr/bin/chromium" : "/usr/lib/chromium/chromium",
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,900", "--no-first-run"],
                    ],
                    "goog:loggingPrefs": ["browser": "ALL"],
                ] as [String: Any],
            ],
        ]
        let created = try await Self.send(.POST, driverURL + "/session", capabilities)
        guard let session = (created as? [String: Any])?["sessionId"] as? String else {
            throw TestSetupError(description: "chromedriver did not start a session: \(String(describing: created))")
        }
        let browser = Browser(base: driverURL + "/session/" + session)
        return try await using(browser, cleanup: { _ in _ = try? await Self.send(.DELETE, driverURL + "/session/" + session, nil) }, body)
    }

    public func open(_ url: String) async throws {
        _ = try await command(.POST, "/url", ["url": url])
    }

    /// Runs `script` in the page (its `arguments` are `arguments`) and answers what it returns.
    @discardableResult
    public func script(_ script: String, _ arguments: [Any] = []) async throws -> Any? {
        try await command(.POST, "/execute/sync", ["script": script, "args": arguments])
    }

    /// Whether an element matches `selector` now.
    public func exists(_ selector: String) async throws -> Bool {
        try await script("return document.querySelector(arguments[0]) !== null", [selector]) as? Bool ?? false
    }

    /// Waits until an element matches `selector`.
    public func waitFor(_ selector: String, within timeout: Duration = .seconds(15)) async throws -> Bool {
        try await eventually(within: timeout) { try await self.exists(selector) }
    }

    /// The text of the first element matching `selector` ("" when there is none).
    public func text(_ selector: String) async throws -> String {
        try await script("const e = document.querySelector(arguments[0]); return e ? e.textContent : ''", [selector]) as? String ?? ""
    }

    /// Clicks the first element matching `selector`, as a user would (WebDriver's element click).
    public func click(_ selector: String) async throws {
        _ = try await command(.POST, "/element/\(try await element(selector))/click", [String: Any]())
    }

    /// Replaces the value of the input matching `selector` by typing `text` into it.
    public func type(_ selector: String, _ text: String) async throws {
        let element = try await element(selector)
        _ = try await command(.POST, "/element/\(element)/clear", [String: Any]())
        _ = try await command(.POST, "/element/\(element)/value", ["text": text])
    }

    /// The WebDriver id of the first element matching `selector`.
    private func element(_ selector: String) async throws -> String {
        let found = try await command(.POST, "/element", ["using": "css selector", "value": selector])
        guard let element = (found as? [String: Any])?.values.first as? String else { throw Failed(description: "no element \(selector)") }
        return element
    }

    /// The browser console's messages at level SEVERE (errors) since the last call.
    public func consoleErrors() async throws -> [String] {
        let entries = try await command(.POST, "/se/log", ["type": "browser"]) as? [[String: Any]] ?? []
        return entries.filter { $0["level"] as? String == "SEVERE" }.map { "\($0["message"] ?? "")" }
    }

    /// A PNG of the window, written to `path`.
    public func screenshot(to path: String) async throws {
        guard let encoded = try await command(.GET, "/screenshot", nil) as? String, let png = Data(base64Encoded: encoded) else {
            throw Failed(description: "no screenshot")
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try png.write(to: URL(fileURLWithPath: path))
    }

    private func command(_ method: HTTPMethod, _ path: String, _ body: Any?) async throws -> Any? {
        try await Self.send(method, base + path, body)
    }

    /// One WebDriver call: answers its `value`, or throws its error.
    static func send(_ method: HTTPMethod, _ url: String, _ body: Any?) async throws -> Any? {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let data = Data((try await response.body.collect(upTo: 32 * 1024 * 1024)).readableBytesView)
        let value = (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any])?["value"]
        guard response.status.code < 300 else {
            throw Failed(description: "WebDriver \(method) \(url): \(response.status.code) \(String(decoding: data.prefix(600), as: UTF8.self))")
        }
        return value is NSNull ? nil : value
    }
}
