import Blytz

/// The AWS deployment of a manifest (`blytz template`): what `blytz local` serves, as AWS runs it, split so
/// that every stack stays well within CloudFormation's quotas after the SAM transform.
///
/// - the **root stack** (plain CloudFormation) holds the HTTP API (routes at the manifest's paths; mount it
///   under `/api` with an API mapping, as the local gateway is), the WebSocket API, the parameters (each
///   service's database URL, the service key and every service's `secrets`, never echoed), and one nested
///   stack per service, to which it passes the APIs' ids and that service's parameters;
/// - each **service stack** (SAM) holds its functions: an `AWS::Serverless::Function` on
///   `provided.al2023` whose `Handler` is the function's name (Lambda hands it to the `bootstrap` as
///   `_HANDLER`), with the manifest's memory, timeout and maximum concurrency (`scaling.max`, as reserved
///   concurrency), from its package `<packages>/<function>.zip`, all running as one role of the service;
///   HTTP and WebSocket functions get their integration, route and permission on the root's APIs; every
///   queue function its own SQS queue (batch size and window from the manifest, partial batch failures
///   reported), subscribed to the root's SNS topic for its event types (a filter policy on the `type`
///   message attribute), and, when it dead-letters, a dead-letter queue after `maxRetries + 1` receives;
///   every function publishes its committed events to the topic (`BLYTZ_EVENT_TOPIC_ARN`), and the
///   service's `blytz-outbox-sweep` runs every minute for what a crash left in the outbox; schedules
///   are EventBridge schedules (AWS fires at most once a minute and has no seconds, so a finer manifest
///   schedule runs once a minute there; each such case is listed in `notes`);
/// - services find each other through the HTTP API's URL, built from the API id the root passes down as a
///   parameter — never by referring to the API from inside the stack that adds its routes, so no stack has
///   a dependency cycle. Adding functions to one service changes only that service's stack.
public enum SAMTemplate {
    /// Where `blytz package` writes the zips and the templates name them, unless told otherwise.
    public static let defaultPackages = ".build/lambda"
    /// The root stack's file; each service stack is `<service>.json` beside it.
    public static let rootFile = "template.json"
    /// The most resources a service stack may have after the SAM transform: CloudFormation accepts 500 a
    /// stack; the rest is headroom.
    public static let maxResources = 450

    /// The stacks and what they could not say exactly as the manifest does.
    public struct Result: Sendable {
        public var root: JSONValue
        /// Service name → its stack.
        public var services: [String: JSONValue]
        public var notes: [String]
    }

    /// Why a manifest has no template.
    public struct Unsupported: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// How many resources a function becomes after the SAM transform: the function, and per trigger its
    /// integration, route and permission (HTTP, WebSocket), its queue, dead-letter queue and event source
    /// mapping, or its EventBridge rule and permission.
    public static func resourceCount(of function: FunctionSpec) -> Int {
        switch function.trigger {
        case .http, .websocket: 4
        case .queue(let queue): queue.deadLetter ? 6 : 5
        case .schedule: 3
        }
    }

    /// What every service stack has besides its functions: the role, and the outbox sweep (a function,
    /// its EventBridge rule and permission).
    public static let serviceOverhead = 4

    public static func build(_ manifest: Manifest, packages: String = defaultPackages) throws(Unsupported) -> Result {
        var parameters: [String: JSONValue] = [
            "ServiceKey": secretParameter("The key services derive their shared secrets from (BLYTZ_SERVICE_KEY)."),
        ]
        var resources: [String: JSONValue] = [
            "HttpApi": ["Type": "AWS::ApiGatewayV2::Api", "Properties": ["Name": ["Fn::Sub": "${AWS::StackName}-http"], "ProtocolType": "HTTP"]],
            "HttpApiStage": ["Type": "AWS::ApiGatewayV2::Stage", "Properties": ["ApiId": ["Ref": "HttpApi"], "StageName": "$default", "AutoDeploy": true]],
            // Every service's committed events are published here; each consumer's queue subscribes to its types.
            "EventTopic": ["Type": "AWS::SNS::Topic", "Properties": ["TopicName": ["Fn::Sub": "${AWS::StackName}-events"]]],
        ]
        var outputs: [String: JSONValue] = [
            "HttpApiUrl": ["Description": "The HTTP API (the gateway's /api).", "Value": ["Fn::Sub": "https://${HttpApi}.execute-api.${AWS::Region}.amazonaws.com"]],
            "EventTopicArn": ["Description": "The SNS topic events travel by.", "Value": ["Ref": "EventTopic"]],
        ]
        var notes: [String] = []
        let websocketServices = Set(manifest.functions.compactMap { function -> String? in
            if case .websocket = function.trigger { function.service } else { nil }
        })
        if !websocketServices.isEmpty {
            resources["WebSocketApi"] = [
                "Type": "AWS::ApiGatewayV2::Api",
                "Properties": ["Name": ["Fn::Sub": "${AWS::StackName}-websocket"], "ProtocolType": "WEBSOCKET", "RouteSelectionExpression": "$request.body.action"],
            ]
            resources["WebSocketStage"] = [
                "Type": "AWS::ApiGatewayV2::Stage",
                "Properties": ["ApiId": ["Ref": "WebSocketApi"], "StageName": "live", "AutoDeploy": true],
            ]
            outputs["WebSocketUrl"] = ["Description": "The WebSocket API.", "Value": ["Fn::Sub": "wss://${WebSocketApi}.execute-api.${AWS::Region}.amazonaws.com/live"]]
        }
        var stacks: [String: JSONValue] = [:]
        for service in manifest.services {
            let functions = manifest.functions(of: service.name)
            guard !functions.isEmpty else { continue }
            let count = serviceOverhead + functions.map(resourceCount(of:)).reduce(0, +)
            guard count <= maxResources else {
                throw Unsupported(description: "the \(service.name) service becomes \(count) resources after the SAM transform; a stack holds at most \(maxResources) (CloudFormation's quota is 500): split the service")
            }
            parameters[databaseParameter(service)] = secretParameter("The PostgreSQL URL of \(service.database) (postgres://user:password@host:5432/\(service.database)).")
            var passed: [String: JSONValue] = [
                "HttpApiId": ["Ref": "HttpApi"], "EventTopicArn": ["Ref": "EventTopic"], "ServiceKey": ["Ref": "ServiceKey"],
                "DatabaseUrl": ["Ref": .string(databaseParameter(service))],
            ]
            for secret in service.secrets {
                parameters[secretParameter(secret, of: service)] = secretParameter("\(secret) of the \(service.name) service.")
                passed[logicalId(secret.lowercased())] = ["Ref": .string(secretParameter(secret, of: service))]
            }
            let websocket = websocketServices.contains(service.name)
            if websocket { passed["WebSocketApiId"] = ["Ref": "WebSocketApi"] }
            resources[logicalId(service.name) + "Stack"] = [
                "Type": "AWS::CloudFormation::Stack",
                "Properties": ["TemplateURL": .string("\(service.name).json"), "Parameters": .object(passed)],
            ]
            stacks[service.name] = try serviceStack(service, functions: functions, manifest: manifest, websocket: websocket, packages: packages, notes: &notes)
        }
        let root: JSONValue = [
            "AWSTemplateFormatVersion": "2010-09-09",
            "Description": .string("BlytzWork: the APIs and one stack per service of \(manifestName(manifest)), as `blytz template` writes it."),
            "Parameters": .object(parameters),
            "Resources": .object(resources),
            "Outputs": .object(outputs),
        ]
        return Result(root: root, services: stacks, notes: notes)
    }

    /// One service's stack: its role, its functions and what each trigger needs.
    static func serviceStack(
        _ service: ServiceSpec, functions: [FunctionSpec], manifest: Manifest, websocket: Bool, packages: String, notes: inout [String]
    ) throws(Unsupported) -> JSONValue {
        var parameters: [String: JSONValue] = [
            "HttpApiId": ["Type": "String", "Description": "The HTTP API's id (the root stack's HttpApi)."],
            "EventTopicArn": ["Type": "String", "Description": "The SNS topic events travel by (the root stack's EventTopic)."],
            "ServiceKey": secretParameter("The key services derive their shared secrets from (BLYTZ_SERVICE_KEY)."),
            "DatabaseUrl": secretParameter("The PostgreSQL URL of \(service.database)."),
        ]
        for secret in service.secrets { parameters[logicalId(secret.lowercased())] = secretParameter("\(secret) of the \(service.name) service.") }
        if websocket { parameters["WebSocketApiId"] = ["Type": "String", "Description": "The WebSocket API's id (the root stack's WebSocketApi)."] }

        let apiURL: JSONValue = ["Fn::Sub": "https://${HttpApiId}.execute-api.${AWS::Region}.amazonaws.com"]
        var managed: [JSONValue] = [["Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]
        if functions.contains(where: { if case .queue = $0.trigger { true } else { false } }) {
            managed.append(["Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole"])
        }
        var role: [String: JSONValue] = [
            "AssumeRolePolicyDocument": [
                "Version": "2012-10-17",
                "Statement": [["Effect": "Allow", "Principal": ["Service": "lambda.amazonaws.com"], "Action": "sts:AssumeRole"]],
            ],
            "ManagedPolicyArns": .array(managed),
        ]
        var policies: [JSONValue] = [[
            "PolicyName": "publish-events",
            "PolicyDocument": ["Version": "2012-10-17", "Statement": [["Effect": "Allow", "Action": ["sns:Publish"], "Resource": ["Ref": "EventTopicArn"]]]],
        ]]
        if websocket {
            policies.append([
                "PolicyName": "manage-websocket-connections",
                "PolicyDocument": [
                    "Version": "2012-10-17",
                    "Statement": [[
                        "Effect": "Allow", "Action": ["execute-api:ManageConnections"],
                        "Resource": ["Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApiId}/*"],
                    ]],
                ],
            ])
        }
        role["Policies"] = .array(policies)
        var resources: [String: JSONValue] = ["ServiceRole": ["Type": "AWS::IAM::Role", "Properties": .object(role)]]

        for function in functions {
            let id = logicalId(function.name)
            var environment: [String: JSONValue] = [
                "BLYTZ_SERVICE": .string(service.name),
                "BLYTZ_DATABASE": .string(service.database),
                "\(service.name.uppercased())_DATABASE_URL": ["Ref": "DatabaseUrl"],
                "BLYTZ_SERVICE_KEY": ["Ref": "ServiceKey"],
                "BLYTZ_EVENT_TOPIC_ARN": ["Ref": "EventTopicArn"],
            ]
            for secret in service.secrets { environment[secret] = ["Ref": .string(logicalId(secret.lowercased()))] }
            for other in manifest.services { environment["BLYTZ_SERVICE_URL_\(other.name.uppercased())"] = apiURL }
            if websocket {
                environment["BLYTZ_WEBSOCKET_ENDPOINT"] = ["Fn::Sub": "https://${WebSocketApiId}.execute-api.${AWS::Region}.amazonaws.com/live"]
            }
            for (key, value) in function.environment { environment[key] = .string(value) }
            let timeout = max(1, min(900, Int((function.timeout.milliseconds + 999) / 1000)))
            var properties: [String: JSONValue] = [
                "Handler": .string(function.name),
                "CodeUri": .string("\(packages)/\(function.name).zip"),
                "MemorySize": .number(Double(max(128, min(10_240, function.memoryMB)))),
                "Timeout": .number(Double(timeout)),
                "ReservedConcurrentExecutions": .number(Double(function.scaling.max)),
                "Role": ["Fn::GetAtt": ["ServiceRole", "Arn"]],
                "Environment": ["Variables": .object(environment)],
            ]
            switch function.trigger {
            case .http(let method, let path):
                route(id, api: "HttpApiId", key: "\(method.uppercased()) \(path)", http: true, into: &resources)
            case .websocket(let key):
                route(id, api: "WebSocketApiId", key: key, http: false, into: &resources)
            case .queue(let queue):
                // SQS hides a received message for the visibility timeout: six times the function's, as AWS advises.
                var queueProperties: [String: JSONValue] = ["VisibilityTimeout": .number(Double(6 * timeout))]
                if queue.deadLetter {
                    resources["\(id)DeadLetterQueue"] = ["Type": "AWS::SQS::Queue", "Properties": ["MessageRetentionPeriod": 1_209_600]]
                    queueProperties["RedrivePolicy"] = [
                        "deadLetterTargetArn": ["Fn::GetAtt": .array([.string("\(id)DeadLetterQueue"), "Arn"])],
                        "maxReceiveCount": .number(Double(queue.maxRetries + 1)),
                    ]
                }
                resources["\(id)Queue"] = ["Type": "AWS::SQS::Queue", "Properties": .object(queueProperties)]
                // The queue takes the events of its types from the topic, as SNS notifications.
                var subscription: [String: JSONValue] = [
                    "TopicArn": ["Ref": "EventTopicArn"], "Protocol": "sqs", "Endpoint": ["Fn::GetAtt": .array([.string("\(id)Queue"), "Arn"])],
                ]
                if !queue.events.contains("*") { subscription["FilterPolicy"] = ["type": .array(queue.events.sorted().map { .string($0) })] }
                resources["\(id)Subscription"] = ["Type": "AWS::SNS::Subscription", "Properties": .object(subscription)]
                resources["\(id)QueuePolicy"] = [
                    "Type": "AWS::SQS::QueuePolicy",
                    "Properties": [
                        "Queues": [["Ref": .string("\(id)Queue")]],
                        "PolicyDocument": [
                            "Version": "2012-10-17",
                            "Statement": [[
                                "Effect": "Allow", "Principal": ["Service": "sns.amazonaws.com"], "Action": "sqs:SendMessage",
                                "Resource": ["Fn::GetAtt": .array([.string("\(id)Queue"), "Arn"])],
                                "Condition": ["ArnEquals": ["aws:SourceArn": ["Ref": "EventTopicArn"]]],
                            ]],
                        ],
                    ],
                ]
                var event: [String: JSONValue] = [
                    "Queue": ["Fn::GetAtt": .array([.string("\(id)Queue"), "Arn"])],
                    "BatchSize": .number(Double(queue.batchSize)),
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                ]
                let window = Int(queue.batchWindow.milliseconds / 1000)
                if window > 0 { event["MaximumBatchingWindowInSeconds"] = .number(Double(min(300, window))) }
                properties["Events"] = ["Queue": ["Type": "SQS", "Properties": .object(event)]]
            case .schedule(let cron):
                let (expression, note) = try awsExpression(cron, function: function.name)
                if let note { notes.append(note) }
                properties["Events"] = ["Schedule": ["Type": "Schedule", "Properties": ["Schedule": .string(expression)]]]
            }
            resources["\(id)Function"] = ["Type": "AWS::Serverless::Function", "Properties": .object(properties)]
        }
        // What a crash left between an invocation's commit and its hand-over to SNS goes out within a minute.
        if case .object(let first)? = resources[logicalId(functions[0].name) + "Function"], case .object(var sweep)? = first["Properties"] {
            sweep["Handler"] = "blytz-outbox-sweep"
            sweep["MemorySize"] = 256
            sweep["Timeout"] = 60
            sweep["ReservedConcurrentExecutions"] = 1
            sweep["Events"] = ["Schedule": ["Type": "Schedule", "Properties": ["Schedule": "rate(1 minute)"]]]
            resources["OutboxSweepFunction"] = ["Type": "AWS::Serverless::Function", "Properties": .object(sweep)]
        }
        return [
            "AWSTemplateFormatVersion": "2010-09-09",
            "Transform": "AWS::Serverless-2016-10-31",
            "Description": .string("BlytzWork: the \(service.name) service's functions of \(manifestName(manifest)), as `blytz template` writes it."),
            "Globals": ["Function": ["Runtime": "provided.al2023", "Architectures": ["x86_64"]]],
            "Parameters": .object(parameters),
            "Resources": .object(resources),
        ]
    }

    /// A function's route on an API of the root stack: its Lambda integration, the route and the
    /// permission for API Gateway to invoke it.
    static func route(_ id: String, api: String, key: String, http: Bool, into resources: inout [String: JSONValue]) {
        var integration: [String: JSONValue] = ["ApiId": ["Ref": .string(api)], "IntegrationType": "AWS_PROXY"]
        if http {
            integration["IntegrationUri"] = ["Fn::GetAtt": .array([.string("\(id)Function"), "Arn"])]
            integration["PayloadFormatVersion"] = "2.0"
        } else {
            integration["IntegrationUri"] = ["Fn::Sub": .string("arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${\(id)Function.Arn}/invocations")]
        }
        resources["\(id)Integration"] = ["Type": "AWS::ApiGatewayV2::Integration", "Properties": .object(integration)]
        resources["\(id)Route"] = [
            "Type": "AWS::ApiGatewayV2::Route",
            "Properties": ["ApiId": ["Ref": .string(api)], "RouteKey": .string(key), "Target": ["Fn::Sub": .string("integrations/${\(id)Integration}")]],
        ]
        resources["\(id)Permission"] = [
            "Type": "AWS::Lambda::Permission",
            "Properties": [
                "Action": "lambda:InvokeFunction", "FunctionName": ["Ref": .string("\(id)Function")], "Principal": "apigateway.amazonaws.com",
                "SourceArn": ["Fn::Sub": .string("arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${\(api)}/*")],
            ],
        ]
    }

    static func manifestName(_ manifest: Manifest) -> String {
        manifest.file.split(separator: "/").last.map(String.init) ?? "functions.yaml"
    }

    /// `users-on-review-posted` → `UsersOnReviewPosted`: CloudFormation's logical ids are alphanumeric.
    public static func logicalId(_ name: String) -> String {
        name.split(whereSeparator: { !($0.isLetter || $0.isNumber) }).map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func databaseParameter(_ service: ServiceSpec) -> String { logicalId(service.name) + "DatabaseUrl" }

    static func secretParameter(_ secret: String, of service: ServiceSpec) -> String {
        logicalId(service.name) + logicalId(secret.lowercased())
    }

    static func secretParameter(_ description: String) -> JSONValue {
        ["Type": "String", "NoEcho": true, "Description": .string(description)]
    }

    /// The EventBridge form of `cron` (`cron(minutes hours day-of-month month day-of-week year)`, Sunday 1), and
    /// a note when AWS cannot run it exactly.
    static func awsExpression(_ cron: CronSchedule, function: String) throws(Unsupported) -> (String, String?) {
        func list(_ values: Set<Int>, _ range: ClosedRange<Int>, names: [String] = [], base: Int = 0) -> String {
            if values == Set(range) { return "*" }
            return values.sorted().map { names.isEmpty ? "\($0)" : names[$0 - base] }.joined(separator: ",")
        }
        if cron.daysRestricted && cron.weekdaysRestricted {
            throw Unsupported(description: "\(function): '\(cron.expression)' restricts both the day of the month and the day of the week, which EventBridge cannot")
        }
        let days = cron.daysRestricted ? list(cron.days, 1...31) : (cron.weekdaysRestricted ? "?" : "*")
        let weekdays = cron.weekdaysRestricted ? list(cron.weekdays, 0...6, names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]) : "?"
        let expression = "cron(\(list(cron.minutes, 0...59)) \(list(cron.hours, 0...23)) \(days) \(list(cron.months, 1...12)) \(weekdays) *)"
        let note: String? = switch cron.seconds.count {
        case 1 where cron.seconds == [0]: nil
        case 1: "\(function): '\(cron.expression)' runs at the start of each matching minute on AWS (EventBridge has no seconds)"
        default: "\(function): '\(cron.expression)' runs once a minute on AWS, EventBridge's finest schedule"
        }
        return (expression, note)
    }
}
