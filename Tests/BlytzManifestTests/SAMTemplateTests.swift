import Blytz
import BlytzManifest
import BlytzTesting
import Foundation
import Testing

/// `blytz template`: a root stack with the APIs and a SAM stack per service that together hold every
/// function, route, queue and schedule the manifest declares and nothing else; checked as AWS checks them
/// (the SAM transform, cfn-lint, quotas, cycles) and created in moto's CloudFormation.
@Suite struct SAMTemplateTests {
    typealias Object = [String: Any]

    /// The stacks `blytz template` writes for the repository's manifest, as plain JSON.
    static func written(_ arguments: [String] = []) throws -> (directory: String, root: Object, services: [String: Object]) {
        let directory = NSTemporaryDirectory() + "sam-\(UUID().uuidString)"
        let (status, output) = try blytz(["template", "--manifest", "functions.yaml", "--directory", directory] + arguments)
        try #require(status == 0, "\(output)")
        #expect(output.contains("wrote \(directory)/template.json"))
        func load(_ name: String) throws -> Object {
            try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))) as? Object)
        }
        let manifest = try Manifest.load(path: "functions.yaml")
        var services: [String: Object] = [:]
        for service in manifest.services { services[service.name] = try load("\(service.name).json") }
        return (directory, try load("template.json"), services)
    }

    @Test func theStacksHoldTheManifestAndNothingElse() throws {
        let manifest = try Manifest.load(path: "functions.yaml")
        let (directory, root, stacks) = try Self.written()
        let rootResources = try #require(root["Resources"] as? [String: Object])
        // The root: the two APIs and one nested stack per service, handed the APIs' ids and its parameters.
        #expect(Set(rootResources.keys) == Set(["HttpApi", "HttpApiStage", "WebSocketApi", "WebSocketStage", "EventTopic"] + manifest.services.map { SAMTemplate.logicalId($0.name) + "Stack" }))
        #expect(root["Transform"] == nil, "the root is plain CloudFormation")
        var routes: Set<String> = [], queues = 0, schedules: Set<String> = [], sockets: Set<String> = []
        for service in manifest.services {
            let nested = try #require(rootResources[SAMTemplate.logicalId(service.name) + "Stack"]?["Properties"] as? Object)
            #expect(nested["TemplateURL"] as? String == "\(service.name).json")
            let passed = try #require(nested["Parameters"] as? [String: [String: String]])
            #expect(passed["HttpApiId"] == ["Ref": "HttpApi"] && passed["DatabaseUrl"] == ["Ref": SAMTemplate.logicalId(service.name) + "DatabaseUrl"])
            #expect(passed["EventTopicArn"] == ["Ref": "EventTopic"])

            let stack = try #require(stacks[service.name])
            #expect(stack["Transform"] as? String == "AWS::Serverless-2016-10-31")
            let resources = try #require(stack["Resources"] as? [String: Object])
            func properties(_ id: String) -> Object { resources[id]?["Properties"] as? Object ?? [:] }
            func event(_ id: String) -> (type: String, properties: Object)? {
                guard let events = properties(id)["Events"] as? [String: Object], events.count == 1, let only = events.values.first else { return nil }
                return (only["Type"] as? String ?? "", only["Properties"] as? Object ?? [:])
            }
            let functions = manifest.functions(of: service.name)
            // The role, and the sweep handing over what a crash left in the outbox, every minute.
            var expected: Set<String> = ["ServiceRole", "OutboxSweepFunction"]
            #expect(properties("OutboxSweepFunction")["Handler"] as? String == "blytz-outbox-sweep")
            #expect(event("OutboxSweepFunction")?.properties["Schedule"] as? String == "rate(1 minute)")
            for function in functions {
                let base = SAMTemplate.logicalId(function.name)
                let id = base + "Function"
                expected.insert(id)
                let made = properties(id)
                #expect(made["Handler"] as? String == function.name)
                #expect(made["MemorySize"] as? Int == function.memoryMB, "\(function.name)")
                #expect(made["Timeout"] as? Int == Int(function.timeout.components.seconds), "\(function.name)")
                #expect(made["ReservedConcurrentExecutions"] as? Int == function.scaling.max, "\(function.name)")
                #expect((made["Role"] as? [String: [String]])?["Fn::GetAtt"] == ["ServiceRole", "Arn"])
                // The zip, named relative to the stack, is where `blytz package` writes it.
                let code = try #require(made["CodeUri"] as? String)
                #expect(URL(fileURLWithPath: directory + "/" + code).standardizedFileURL.path
                    == URL(fileURLWithPath: ".build/lambda/\(function.name).zip").standardizedFileURL.path)
                let variables = (made["Environment"] as? Object)?["Variables"] as? Object ?? [:]
                #expect(variables["BLYTZ_SERVICE"] as? String == function.service)
                #expect((variables["\(function.service.uppercased())_DATABASE_URL"] as? [String: String])?["Ref"] == "DatabaseUrl", "a parameter, not a literal")
                // Services reach each other through the API's URL, built from the id the root passes down.
                #expect((variables["BLYTZ_SERVICE_URL_USERS"] as? [String: String])?["Fn::Sub"] == "https://${HttpApiId}.execute-api.${AWS::Region}.amazonaws.com")
                // Committed events leave for the topic right after the invocation.
                #expect((variables["BLYTZ_EVENT_TOPIC_ARN"] as? [String: String])?["Ref"] == "EventTopicArn")
                switch function.trigger {
                case .http(let method, let path):
                    #expect(made["Events"] == nil)
                    let route = properties(base + "Route")
                    #expect((route["ApiId"] as? [String: String])?["Ref"] == "HttpApiId")
                    #expect(route["RouteKey"] as? String == "\(method) \(path)")
                    routes.insert(route["RouteKey"] as? String ?? "")
                    #expect(properties(base + "Integration")["PayloadFormatVersion"] as? String == "2.0")
                    expected.formUnion([base + "Route", base + "Integration", base + "Permission"])
                case .queue(let queue):
                    queues += 1
                    let sqs = try #require(event(id))
                    #expect(sqs.type == "SQS")
                    #expect(sqs.properties["BatchSize"] as? Int == queue.batchSize)
                    #expect(sqs.properties["FunctionResponseTypes"] as? [String] == ["ReportBatchItemFailures"])
                    let queueId = base + "Queue"
                    #expect((sqs.properties["Queue"] as? [String: [String]])?["Fn::GetAtt"] == [queueId, "Arn"])
                    expected.insert(queueId)
                    // The queue subscribes to the topic for its event types only.
                    let subscription = properties(base + "Subscription")
                    #expect((subscription["TopicArn"] as? [String: String])?["Ref"] == "EventTopicArn" && subscription["Protocol"] as? String == "sqs")
                    let filter = (subscription["FilterPolicy"] as? [String: [String]])?["type"]
                    #expect(queue.events.contains("*") ? filter == nil : filter == queue.events.sorted(), "\(function.name)")
                    expected.formUnion([base + "Subscription", base + "QueuePolicy"])
                    let redrive = properties(queueId)["RedrivePolicy"] as? Object
                    if queue.deadLetter {
                        expected.insert(base + "DeadLetterQueue")
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
                    #expect((properties(base + "Route")["ApiId"] as? [String: String])?["Ref"] == "WebSocketApiId")
                    #expect(properties(base + "Route")["RouteKey"] as? String == route)
                    expected.formUnion([base + "Route", base + "Integration", base + "Permission"])
                    sockets.insert(route)
                }
            }
            // Nothing the manifest does not ask for.
            #expect(Set(resources.keys) == expected, "\(service.name)")
            let parameters = try #require(stack["Parameters"] as? [String: Object])
            #expect(parameters["DatabaseUrl"]?["NoEcho"] as? Bool == true && parameters["ServiceKey"]?["NoEcho"] as? Bool == true)
        }
        #expect(routes.count == manifest.functions.filter { if case .http = $0.trigger { true } else { false } }.count)
        #expect(queues > 0 && !schedules.isEmpty && sockets == ["$connect", "$disconnect", "$default"])

        // Database URLs and secrets are parameters of the root that are never echoed.
        let parameters = try #require(root["Parameters"] as? [String: Object])
        for service in manifest.services {
            #expect(parameters[SAMTemplate.logicalId(service.name) + "DatabaseUrl"]?["NoEcho"] as? Bool == true)
        }
        #expect(parameters["PaymentsStripeSecretKey"]?["NoEcho"] as? Bool == true && parameters["ServiceKey"]?["NoEcho"] as? Bool == true)
        #expect(parameters.values.allSatisfy { $0["Default"] == nil })
    }

    /// The SAM transform (aws-sam-translator), cfn-lint on what it yields, the quotas and cycles on every
    /// stack, and the whole deployment created in moto's CloudFormation.
    @Test func theStacksPassAWSsChecksAndCreateInMoto() async throws {
        let python = try #require(ProcessInfo.processInfo.environment["BLYTZ_TEST_PYTHON"], "run the tests with ./local/test, which installs the AWS tools")
        let manifest = try Manifest.load(path: "functions.yaml")
        let (directory, _, _) = try Self.written()
        struct Summary: Decodable {
            struct Stack: Decodable { var stack: String; var resources: Int; var parameters: Int; var outputs: Int; var bytes: Int }
            struct Moto: Decodable { var status: String; var functions: Int; var queues: Int }
            var stacks: [Stack]
            var motoSkips: [String]
            var moto: Moto?
        }
        let summary = try await PythonServer.with(module: "moto.server", arguments: ["-p", "{port}", "-H", "127.0.0.1"]) { port in
            let (status, output) = try runProcess(python, ["local/tools/sam_check.py", directory, "--moto", "http://127.0.0.1:\(port)"])
            try #require(status == 0, "\(output)")
            return try JSONDecoder().decode(Summary.self, from: Data(try #require(output.split(separator: "\n").last).utf8))
        }
        #expect(summary.stacks.count == manifest.services.count + 1)
        for stack in summary.stacks {
            #expect(stack.resources <= SAMTemplate.maxResources && stack.parameters <= 200 && stack.outputs <= 200 && stack.bytes < 1_000_000)
            // What the transform made is what the template counts on.
            if let service = manifest.service(named: stack.stack) {
                #expect(stack.resources == SAMTemplate.serviceOverhead + manifest.functions(of: service.name).map(SAMTemplate.resourceCount(of:)).reduce(0, +), "\(stack.stack)")
            }
        }
        print("stacks after the SAM transform: " + summary.stacks.map { "\($0.stack) \($0.resources) resources, \($0.bytes) bytes" }.joined(separator: "; "))
        // moto creates everything but what its CloudFormation does not implement.
        #expect(summary.motoSkips == [
            "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Stage",
            "AWS::SNS::Subscription", "AWS::SQS::QueuePolicy",
        ])
        let moto = try #require(summary.moto)
        #expect(moto.status == "CREATE_COMPLETE")
        #expect(moto.functions == manifest.functions.count + manifest.services.count, "every function and each service's outbox sweep")
        let queues = manifest.functions.reduce(0) { count, function in
            if case .queue(let queue) = function.trigger { count + (queue.deadLetter ? 2 : 1) } else { count }
        }
        #expect(moto.queues == queues)
    }

    @Test func aServiceTooLargeForOneStackIsRefused() throws {
        func manifest(routes: Int) throws -> Manifest {
            let lines = (0..<routes).map { "  r\($0): { service: s, http: GET /r/\($0) }" }
            let yaml = "version: 1\nservices:\n  s: { port: 3001, executable: s, database: s_db }\nfunctions:\n" + lines.joined(separator: "\n") + "\n"
            let path = NSTemporaryDirectory() + "large-\(UUID().uuidString).yaml"
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            return try Manifest.load(path: path)
        }
        // The role and the outbox sweep (4), and 4 resources per HTTP function: 111 fit within 450, 112 do not.
        #expect(try SAMTemplate.build(manifest(routes: 111)).services["s"] != nil)
        #expect(throws: SAMTemplate.Unsupported.self) { try SAMTemplate.build(manifest(routes: 112)) }
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
        guard case .object(let resources) = result.services["s"]?["Resources"] else { Issue.record("no resources"); return }
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
