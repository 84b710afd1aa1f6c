#if canImport(Glibc)
import Glibc
#endif
import CBlytzSpawn
import NIOCore
import NIOPosix

/// Starts worker processes and reports their exit.
///
/// Forks happen on one long-lived thread so the parent-death signal (tied to the forking thread on
/// Linux) only fires when the runner itself dies. A worker's stdout and stderr go through a pipe into its
/// function's log file; the pipe closing is how its exit is noticed, then it is reaped.
final class ProcessSpawner: Sendable {
    /// A started process.
    struct Spawned: Sendable {
        var pid: Int32
        /// The exit code (128 + signal when killed), once the process has ended.
        var exit: EventLoopFuture<Int32>
    }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    let group: any EventLoopGroup
    private let forkThread: NIOThreadPool
    private let waitThreads: NIOThreadPool

    init(group: any EventLoopGroup) {
        self.group = group
        self.forkThread = NIOThreadPool(numberOfThreads: 1)
        self.waitThreads = NIOThreadPool(numberOfThreads: 2)
        forkThread.start()
        waitThreads.start()
    }

    func shutdown() async {
        try? await forkThread.shutdownGracefully()
        try? await waitThreads.shutdownGracefully()
    }

    /// Starts `arguments[0]` with `environment`; its output is appended to `logPath`.
    func spawn(_ arguments: [String], environment: [String: String], directory: String?, logPath: String) async throws -> Spawned {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw Failed(description: "pipe failed: errno \(errno)") }
        let (readFD, writeFD) = (fds[0], fds[1])
        _ = fcntl(readFD, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeFD, F_SETFD, FD_CLOEXEC)
        let environmentLines = environment.map { "\($0.key)=\($0.value)" }
        let pid: Int32 = try await forkThread.runIfActive {
            withCStrings(arguments) { argv in
                withCStrings(environmentLines) { envp in
                    if let directory {
                        directory.withCString { blytz_spawn(arguments[0], argv, envp, $0, writeFD) }
                    } else {
                        blytz_spawn(arguments[0], argv, envp, nil, writeFD)
                    }
                }
            }
        }
        close(writeFD)
        guard pid > 0 else {
            close(readFD)
            throw Failed(description: "cannot start \(arguments[0]): errno \(-pid)")
        }
        let exit = group.any().makePromise(of: Int32.self)
        let logFD = open(logPath, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        let waitThreads = self.waitThreads
        let reap: @Sendable () -> Void = {
            if logFD >= 0 { close(logFD) }
            waitThreads.submit { _ in exit.succeed(blytz_exit_code(blytz_wait(pid))) }
        }
        do {
            _ = try await NIOPipeBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(OutputCopier(logFD: logFD, onClose: reap))
                    }
                }
                .takingOwnershipOfDescriptor(input: readFD)
                .get()
        } catch {
            close(readFD)
            reap()
        }
        return Spawned(pid: pid, exit: exit.futureResult)
    }

    /// Sends `signal` to the process group of `pid`.
    func kill(_ pid: Int32, _ signal: Int32) {
        _ = blytz_kill_group(pid, signal)
    }
}

/// Copies a worker's output into its log file and reports when the worker closes it (exits).
private final class OutputCopier: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let logFD: Int32
    let onClose: @Sendable () -> Void

    init(logFD: Int32, onClose: @escaping @Sendable () -> Void) {
        self.logFD = logFD
        self.onClose = onClose
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        guard logFD >= 0 else { return }
        buffer.withUnsafeReadableBytes { bytes in
            _ = write(logFD, bytes.baseAddress, bytes.count)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// Calls `body` with a NULL-terminated C array of copies of `strings`.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
