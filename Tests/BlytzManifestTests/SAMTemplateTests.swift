import Blytz
import BlytzManifest
import BlytzTesting
import Foundation
import Testing

/// `blytz template`: the SAM template of the real manifest holds every function, route, queue and schedule
/// the manifest declares and nothing else, and passes cfn-lint.
@Suite struct SAMTemplateTests {
    /// The template `blytz template` writes for the repository's manifest, as plain JSON.
    static func written() throws -> (path: String, template: [String: Any]) {
        let path = NSTemporaryDirectory() + "template-\(UUID().uuidString).json"
        let (status, output) = try blytz(["template", "--manifest", "functions.yaml", "--output", path])
        try #require(status == 0, "\(output)")
        let template = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        return (path, template)
    }

    @Test func theTemplateHoldsTheManifestAndNothingElse() throws {
        let manifest = try Manifest.load(path: "functions.yaml")
        let (_, template) = try Self.written()
        let resources = try #require(template["Resources"] as? [String: [String: Any]])
        func properties(_ id: String) -> [String: Any] { resources[id]?["Properties"] as? [String: Any] ?? [:] }
        func event(_ id: String) -> (type: String, properties: [String: Any])? {
            guard let events = properties(id)["Events"] as? [String: [String: Any]], events.count == 1, let only = events.values.first else { return nil }
            return (only["Type"] as? String ?? "", only["Properties"] as? [String: Any] ?? [:])
        }
        let functions = resources.filter { $0.value["Type"] as? String == "AWS::Serverless::Function" }
        // One function per manifest entry, chosen by its name as the Handler.
        #expect(Set(functions.keys.map { properties($0)["Handler"] as? String ?? "" }) == Set(manifest.functions.map(\.name)))
        #expect(functions.count == manifest.functions.count)

        var expected = Set(functions.keys).union(["HttpApi"])
        var routes: Set<String> = [], queues = 0, schedules: Set<String> = [], sockets: Set<String> = []
        for function in manifest.functions {
            let id = SAMTemplate.logicalId(function.name) + "Function"
            let made = properties(id)
            #expect(made["Handler"] as? String == function.name)
            #expect(made["MemorySize"] as? Int == function.memoryMB, "\(function.name)")
            #expect(made["Timeout"] as? Int == Int(function.timeout.components.seconds), "\(function.name)")
            #expect(made["ReservedConcurrentExecutions"] as? Int == function.scaling.max, "\(function.name)")
            #expect(made["CodeUri"] as? String == ".build/lambda/\(function.name).zip")
            let variables = (made["Environment"] as? [String: Any])?["Variables"] as? [String: Any] ?? [:]
            #expect(variables["BLYTZ_SERVICE"] as? String == function.service)
            #expect((variables["\(function.service.uppercased())_DATABASE_URL"] as? [String: String])?["Ref"] != nil, "a parameter, not a literal")
            switch function.trigger {
            case .http(let method, let path):
                let http = try #require(event(id))
                #expect(http.type == "HttpApi")
                routes.insert("\(http.properties["Method"] ?? "") \(http.properties["Path"] ?? "")")
                #expect("\(method) \(path)" == "\(http.properties["Method"] ?? "") \(http.properties["Path"] ?? "")")
            case .queue(let queue):
                queues += 1
                let sqs = try #require(event(id))
                #expect(sqs.type == "SQS")
                #expect(sqs.properties["BatchSize"] as? Int == queue.batchSize)
                #expect(sqs.properties["FunctionResponseTypes"] as? [String] == ["ReportBatchItemFailures"])
                let queueId = SAMTemplate.logicalId(function.name) + "Queue"
                #expect((sqs.properties["Queue"] as? [String: [String]])?["Fn::GetAtt"] == [queueId, "Arn"])
                expected.insert(queueId)
                let redrive = properties(queueId)["RedrivePolicy"] as? [String: Any]
                if queue.deadLetter {
                    expected.insert(SAMTemplate.logicalId(function.name) + "DeadLetterQueue")
                    #expect(redrive?["maxReceiveCount"] as? Int == queue.maxRetries + 1)
                } else {
                    #expect(redrive == nil)
                }
            case .schedule(let cron):
                let schedule = try #require(event(id))
                #expect(schedule.type == "Schedule")
                let expression = try #require(schedule.properties["Schedule"] as? String)
                #expect(expression.hasPrefix("cron(") && expression.hasSuffix(" *)"), "\(expression) for \(cron.expression)")
                schedules.insert(function.name)
            case .websocket(let route):
                #expect(made["Events"] == nil)
                let base = SAMTemplate.logicalId(function.name)
                #expect(properties(base + "Route")["RouteKey"] as? String == route)
                expected.formUnion([base + "Route", base + "Integration", base + "Permission"])
                sockets.insert(route)
            }
        }
        #expect(routes.count == manifest.functions.filter { if case .http = $0.trigger { true } else { false } }.count)
        #expect(queues > 0 && !schedules.isEmpty && sockets == ["$connect", "$disconnect", "$default"])
        expected.formUnion(["WebSocketApi", "WebSocketStage"])
        // Nothing the manifest does not ask for.
        #expect(Set(resources.keys) == expected)

        // Database URLs and secrets are parameters that are never echoed.
        let parameters = try #require(template["Parameters"] as? [String: [String: Any]])
        for service in manifest.services {
            #expect(parameters[SAMTemplate.logicalId(service.name) + "DatabaseUrl"]?["NoEcho"] as? Bool == true)
        }
        #expect(parameters["PaymentsStripeSecretKey"]?["NoEcho"] as? Bool == true && parameters["ServiceKey"]?["NoEcho"] as? Bool == true)
        #expect(parameters.values.allSatisfy { $0["Default"] == nil })
    }

    @Test func theTemplatePassesCfnLint() throws {
        let python = try #require(ProcessInfo.processInfo.environment["BLYTZ_TEST_PYTHON"], "run the tests with ./local/test, which installs cfn-lint")
        let (path, _) = try Self.written()
        let cfnLint = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("cfn-lint").path
        let (status, output) = try runProcess(cfnLint, ["--format", "parseable", path])
        #expect(status == 0, "\(output)")
    }

    @Test func schedulesBecomeEventBridgeCronExpressions() throws {
        let yaml = """
            version: 1
            services:
              s: { port: 3001, executable: s, database: s_db }
            functions:
              nightly:  { service: s, schedule: "0 30 3 * * *" }
              weekdays: { service: s, schedule: "*/15 9-17 * * mon-fri" }
              monthly:  { service: s, schedule: "@monthly" }
              often:    { service: s, schedule: "*/30 * * * * *" }
            """
        let path = NSTemporaryDirectory() + "schedules-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try SAMTemplate.build(try Manifest.load(path: path))
        guard case .object(let resources) = result.template["Resources"] else { Issue.record("no resources"); return }
        func expression(_ name: String) -> String? {
            guard case .object(let function) = resources[SAMTemplate.logicalId(name) + "Function"], case .object(let properties) = function["Properties"],
                  case .object(let events) = properties["Events"], case .object(let schedule) = events["Schedule"],
                  case .object(let event) = schedule["Properties"], case .string(let text) = event["Schedule"] else { return nil }
            return text
        }
        #expect(expression("nightly") == "cron(30 3 * * ? *)")
        #expect(expression("weekdays") == "cron(0,15,30,45 9,10,11,12,13,14,15,16,17 ? * MON,TUE,WED,THU,FRI *)")
        #expect(expression("monthly") == "cron(0 0 1 * ? *)")
        #expect(expression("often") == "cron(* * * * ? *)")
        #expect(result.notes == ["often: '*/30 * * * * *' runs once a minute on AWS, EventBridge's finest schedule"])
    }
}

extension JSONValue {
    fileprivate subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { object[key] } else { nil }
    }
}
