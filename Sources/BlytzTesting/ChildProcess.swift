#if canImport(Glibc)
import Glibc
#endif
import CBlytzSpawn
import Foundation

extension Process {
    /// Its exit status once it has exited (as `terminationStatus`: the exit code, or the number of the
    /// signal that ended it), else nil. Read from the kernel by pid, without reaping it, because
    /// `isRunning` and `waitUntilExit()` may never see the exit: Foundation learns of it when a socket
    /// the child holds closes, and a process started at the same moment on another thread can inherit that
    /// socket and outlive the child (a database server that daemonises, a browser's helpers).
    public var exitStatus: Int32? {
        if !isRunning { return terminationStatus }
        var status: Int32 = 0
        guard blytz_exited(processIdentifier, &status) == 1 else {
            // Still running, or reaped by Foundation a moment ago (its status is then about to be set).
            return isRunning ? nil : terminationStatus
        }
        return status & 0x7f == 0 ? (status >> 8) & 0xff : status & 0x7f
    }

    /// Blocks until the process has exited; answers its exit status.
    @discardableResult
    public func waitForExit() -> Int32 {
        while true {
            if let status = exitStatus { return status }
            usleep(2_000)
        }
    }

    /// Sends SIGTERM, waits up to `seconds` for the process to exit, then SIGKILLs it; answers its exit status.
    @discardableResult
    public func terminate(within seconds: TimeInterval) -> Int32 {
        if exitStatus == nil { terminate() }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let status = exitStatus { return status }
            usleep(2_000)
        }
        return kill()
    }

    /// Sends SIGKILL and waits until the process has exited; answers its exit status.
    @discardableResult
    public func kill() -> Int32 {
        Glibc.kill(processIdentifier, SIGKILL)
        return waitForExit()
    }
}
