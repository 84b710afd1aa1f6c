import Blytz
import BlytzData
import BlytzManifest
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Tracing

/// Fires schedule-triggered functions on their cron expressions, each firing an EventBridge-shaped event.
/// A firing that runs long does not delay the next one. Each slot is claimed in the schedule state before
/// it fires, so a slot fires once across restarts (and across replicas sharing a PostgreSQL queue); a slot
/// missed while no runner ran is fired once at start, and how many were missed is logged.
struct Scheduler: Service {
    let core: RunnerCore
    let state: ScheduleState
    let logger: Logger

    func run() async throws {
        let schedules = core.manifest.functions.compactMap { function -> (FunctionSpec, CronSchedule)? in
            if case .schedule(let cron) = function.trigger, core.pools[function.name] != nil { return (function, cron) }
            return nil
        }
        guard !schedules.isEmpty else { return try await gracefulShutdown() }
        _ = await core.ports.ready()
        try await state.prepare()
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
            let now = wallClockMilliseconds() / 1000
            var after = now
            // Catch up once on the latest slot missed since the last one fired.
            if let last = try? await state.lastDue(function.name), last > 0, let missed = cron.next(after: last), missed <= now {
                var latest = missed
                var count = 1
                while let next = cron.next(after: latest), next <= now {
                    latest = next
                    count += 1
                }
                logger.warning("schedule slots missed while stopped; firing the latest once", metadata: ["function": "\(function.name)", "missed": "\(count)"])
                after = latest - 1
            }
            while !Task.isCancelled, let due = cron.next(after: after) {
                let wait = due * 1000 - wallClockMilliseconds()
                if wait > 0 {
                    do { try await Task.sleep(for: .milliseconds(wait)) } catch { return }
                }
                after = due
                guard (try? await state.claim(function.name, due: due)) == true else { continue }
                group.addTask {
                    let requestID = TraceContext.requestID()
                    let event = ScheduledEvent(id: requestID, time: Date(timeIntervalSince1970: Double(due)).formatted(.iso8601), rule: function.name)
                    guard let payload = try? JSONEncoder().encode(event) else { return }
                    let (result, milliseconds, traceparent) = await RunnerTraces.invocation(
                        core.tracer, "schedule \(function.name)", kind: .internal, parent: nil, attributes: ["blytz.function": function.name]
                    ) { traceparent, _ in
                        let (result, milliseconds) = await core.invoke(function.name, payload: ByteBuffer(bytes: payload), requestID: requestID, traceparent: traceparent)
                        return (result, milliseconds, traceparent)
                    }
                    let status: Int =
                        switch result {
                        case .response: 200
                        case .functionError: 502
                        case .failed(let failure): failure.status
                        }
                    core.log.record(
                        function: function.name, requestID: requestID, status: status, durationMs: milliseconds, coldStart: result.coldStart, trigger: "schedule",
                        traceparent: traceparent, event: ByteBuffer(bytes: payload), answer: result.output
                    )
                }
            }
        }
    }
}
