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

    @Test func terminatingEndsWithSIGTERMOrAfterItsBoundWithSIGKILL() throws {
        // The test process may hand its children a blocked or ignored SIGTERM: each sets its own.
        func python(_ disposition: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", "import signal, time; signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM]); signal.signal(signal.SIGTERM, signal.\(disposition)); print(flush=True); time.sleep(30)"]
            let ready = Pipe()
            process.standardOutput = ready
            try process.run()
            _ = ready.fileHandleForReading.availableData
            return process
        }
        #expect(try python("SIG_DFL").terminate(within: 5) == SIGTERM)
        let stubborn = try python("SIG_IGN")
        let started = ContinuousClock.now
        #expect(stubborn.terminate(within: 0.5) == SIGKILL)
        #expect(ContinuousClock.now - started >= .milliseconds(500))
    }
}
