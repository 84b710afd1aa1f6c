import BlytzManifest
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// `blytz local --watch`: when a service's sources change, rebuild it and replace its workers.
/// Workers in the middle of an invocation finish it before they stop, so no request is dropped;
/// a failed build keeps the running workers.
struct SourceWatcher: Service {
    let core: RunnerCore
    let spawner: ProcessSpawner
    let lookup: ExecutableLookup
    let dataDirectory: String
    let inherited: [String: String]
    /// Added to a service's default build command (`Runner.Options.swiftBuildFlags`).
    let swiftBuildFlags: [String]
    let logger: Logger
    /// How often sources are scanned.
    var interval: Duration = .milliseconds(300)

    func run() async throws {
        let watched = core.manifest.services.filter { !$0.sources.isEmpty }
        try await cancelWhenGracefulShutdown {
            var signatures = Dictionary(uniqueKeysWithValues: watched.map { ($0.name, signature($0)) })
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                for service in watched {
                    let current = signature(service)
                    guard current != signatures[service.name] else { continue }
                    signatures[service.name] = current
                    await rebuild(service)
                    // Changes made while building are picked up on the next scan.
                }
            }
        }
    }

    private func rebuild(_ service: ServiceSpec) async {
        logger.info("sources changed; rebuilding", metadata: ["service": "\(service.name)"])
        let start = ContinuousClock.now
        let buildCommand = service.buildCommand(swiftBuildFlags: swiftBuildFlags)
        do {
            guard let command = lookup.command(buildCommand) else {
                logger.error("build command not found", metadata: ["service": "\(service.name)", "command": "\(buildCommand.joined(separator: " "))"])
                return
            }
            let build = try await spawner.spawn(
                command, environment: inherited, directory: lookup.manifestDirectory, logPath: "\(dataDirectory)/logs/build-\(service.name).log"
            )
            // Stopping the runner stops a build under way rather than waiting for it.
            let code = try await withTaskCancellationHandler {
                try await build.exit.get()
            } onCancel: {
                spawner.kill(build.pid, SIGTERM)
            }
            if Task.isCancelled { return }
            guard code == 0 else {
                logger.error("build failed; keeping the running workers", metadata: ["service": "\(service.name)", "exit": "\(code)", "log": "\(dataDirectory)/logs/build-\(service.name).log"])
                return
            }
        } catch {
            logger.error("build could not start", metadata: ["service": "\(service.name)", "error": "\(error)"])
            return
        }
        for function in core.manifest.functions(of: service.name) {
            core.pools[function.name]?.recycle()
        }
        logger.info("workers replaced", metadata: ["service": "\(service.name)", "build.ms": "\((ContinuousClock.now - start).milliseconds)"])
    }

    /// Paths, sizes and modification times of every file under the service's sources.
    private func signature(_ service: ServiceSpec) -> [String: String] {
        var files: [String: String] = [:]
        let manager = FileManager.default
        for source in service.sources {
            let root = source.hasPrefix("/") ? source : "\(lookup.manifestDirectory)/\(source)"
            guard let walker = manager.enumerator(atPath: root) else { continue }
            while let relative = walker.nextObject() as? String {
                let path = "\(root)/\(relative)"
                guard let attributes = try? manager.attributesOfItem(atPath: path), attributes[.type] as? FileAttributeType == .typeRegular else { continue }
                let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                files[path] = "\(attributes[.size] ?? 0):\(modified)"
            }
        }
        return files
    }
}
