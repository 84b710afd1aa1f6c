import BlytzTesting
import Foundation
import Testing

/// How the tests wait for the processes they start: by pid, because Foundation's `isRunning` stays true
/// while anything that inherited the child's descriptors lives on (here a background `sleep`, as a
/// daemonising database server or a browser's helper would).
@Suite struct ChildProcessTests {
    @Test func anExitIsSeenWhileAProcessThatInheritedTheChildsDescriptorsLivesOn() async throws {
        let pidFile = NSTemporaryDirectory() + "blytz-orphan-\(UUID().uuidString)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "sleep 30 & echo $! > \(pidFile); exit 3"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if let orphan = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(orphan.trimmingCharacters(in: .whitespacesAndNewlines)) {
                kill(pid, SIGKILL)
            }
            try? FileManager.default.removeItem(atPath: pidFile)
        }
        let started = ContinuousClock.now
        #expect(process.waitForExit() == 3)
        #expect(ContinuousClock.now - started < .seconds(10))
        // Foundation itself has not noticed: the orphan still holds the socket it watches.
        #expect(process.isRunning)
    }

    @Test func aKilledProcessAnswersTheSignalThatEndedIt() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["30"]
        try process.run()
        #expect(process.exitStatus == nil)
        #expect(process.kill() == SIGKILL)
        #expect(process.exitStatus == SIGKILL)
    }
}
