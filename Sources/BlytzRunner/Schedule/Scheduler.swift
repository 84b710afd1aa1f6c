import Blytz
import BlytzManifest
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Fires schedule-triggered functions on their cron expressions, each firing an EventBridge-shaped event.
/// A firing that runs long does not delay the next one.
struct Scheduler: Service {
    let core: RunnerCore
    let logger: Logger

    func run() async throws {
        let schedules = core.manifest.functions.compactMap { function -> (FunctionSpec, CronSchedule)? in
            if case .schedule(let cron) = function.trigger { return (function, cron) }
            return nil
        }
        guard !schedules.isEmpty else { return try await gracefulShutdown() }
        _ = await core.ports.ready()
        try await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for (function, cron) in schedules {
                    group.addTask { await fire(function, cron: cron) }
                }
            }
        }
    }

    private func fire(_ function: FunctionSpec, cron: CronSchedule) async {
        await withDiscardingTaskGroup { group in
            var after = wallClockMilliseconds() / 1000
            while !Task.isCancelled, let due = cron.next(after: after) {
                let wait = due * 1000 - wallClockMilliseconds()
                if wait > 0 {
                    do { try await Task.sleep(for: .milliseconds(wait)) } catch { return }
                }
                after = due
                group.addTask {
                    let requestID = TraceContext.requestID()
                    let event = ScheduledEvent(id: requestID, time: Date(timeIntervalSince1970: Double(due)).formatted(.iso8601), rule: function.name)
                    guard let payload = try? JSONEncoder().encode(event) else { return }
                    let (result, milliseconds) = await core.invoke(function.name, payload: ByteBuffer(bytes: payload), requestID: requestID, traceparent: TraceContext.child(of: nil))
                    let status: Int =
                        switch result {
                        case .response: 200
                        case .functionError: 502
                        case .failed(let failure): failure.status
                        }
                    core.log.record(function: function.name, requestID: requestID, status: status, durationMs: milliseconds, coldStart: result.coldStart, trigger: "schedule")
                }
            }
        }
    }
}
