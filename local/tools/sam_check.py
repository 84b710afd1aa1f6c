"""Checks the stacks `blytz template` wrote the way AWS checks them.

    sam_check.py DIRECTORY [--moto ENDPOINT]

Each service stack goes through the SAM transform itself (aws-sam-translator, which CloudFormation applies
on `sam deploy`), with its functions' CodeUri in S3 as `sam package` leaves it. Then the root stack and every
transformed stack must pass cfn-lint with no error, stay within the quotas (at most 450 resources — of
CloudFormation's 500 —, 200 parameters, 200 outputs, 1 MB of template in S3) and have no dependency cycle
(through Ref, Fn::GetAtt, Fn::Sub and DependsOn).

With --moto, the root stack and its transformed nested stacks are created in moto's CloudFormation (the
functions' zips and the stacks uploaded to its S3 first), which must complete; the resource types moto's
CloudFormation does not implement (and so skips) are listed.

Prints a JSON summary: per stack its resources, parameters, outputs and bytes, and what moto skipped.
"""
import copy
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile

QUOTAS = {"resources": 450, "parameters": 200, "outputs": 200, "bytes": 1_000_000}
BUCKET = "blytz-packages"
STACKS = "blytz-stacks"


class NoManagedPolicies:
    """The stacks name managed policies by ARN; the transform never needs to look one up."""

    def load(self):
        return {}


def transform(template):
    from samtranslator.translator.transform import transform as sam_transform

    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and not str(properties.get("CodeUri", "")).startswith("s3://"):
            properties["CodeUri"] = f"s3://{BUCKET}/{os.path.basename(properties['CodeUri'])}"
    return sam_transform(template, {}, NoManagedPolicies())


def references(value, found):
    """Every logical id `value` refers to."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0] if isinstance(inner, list) else inner.split(".")[0])
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) else inner
                found.update(name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
                if isinstance(inner, list):
                    references(inner[1], found)
            else:
                references(inner, found)
    elif isinstance(value, list):
        for inner in value:
            references(inner, found)
    return found


def cycle(template):
    """A dependency cycle among the resources, or None."""
    resources = template.get("Resources", {})
    edges = {}
    for name, resource in resources.items():
        found = references(resource.get("Properties", {}), set())
        depends = resource.get("DependsOn", [])
        found.update([depends] if isinstance(depends, str) else depends)
        edges[name] = sorted(found & resources.keys())
    state = {}

    def visit(node, path):
        state[node] = "open"
        for target in edges[node]:
            if state.get(target) == "open":
                return path + [node, target]
            if target not in state:
                found = visit(target, path + [node])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in edges:
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


def lint(path):
    cfn_lint = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
    run = subprocess.run([cfn_lint, "--format", "parseable", path], capture_output=True, text=True)
    # cfn-lint exits 2 for errors, 4 for warnings, 8 for informational findings; only errors fail.
    errors = [line for line in run.stdout.splitlines() if ":E" in line]
    if run.returncode & 2 or run.returncode == 1 or errors:
        return errors or [run.stdout + run.stderr]
    return []


def measure(name, template):
    text = json.dumps(template)
    return {
        "stack": name,
        "resources": len(template.get("Resources", {})),
        "parameters": len(template.get("Parameters", {})),
        "outputs": len(template.get("Outputs", {})),
        "bytes": len(text.encode()),
    }


def create_in_moto(endpoint, root, transformed):
    import boto3

    session = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    s3 = boto3.client("s3", **session)
    cloudformation = boto3.client("cloudformation", **session)
    s3.create_bucket(Bucket=BUCKET)
    s3.create_bucket(Bucket=STACKS)
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\n")
    for stack in transformed.values():
        for resource in stack["Resources"].values():
            if resource["Type"] == "AWS::Lambda::Function":
                code = resource["Properties"]["Code"]
                s3.put_object(Bucket=code["S3Bucket"], Key=code["S3Key"], Body=package.getvalue())
    root = copy.deepcopy(root)
    from moto.cloudformation.parsing import resource_class_from_type

    skipped = {name for name, resource in root["Resources"].items() if resource_class_from_type(resource["Type"]) is None}
    for resource in root["Resources"].values():
        if resource["Type"] == "AWS::CloudFormation::Stack":
            # moto resolves a Ref to a resource it skipped to nothing; the nested stack gets a stand-in id.
            passed = resource["Properties"].get("Parameters", {})
            for key, value in passed.items():
                if isinstance(value, dict) and value.get("Ref") in skipped:
                    passed[key] = f"{value['Ref'].lower()}-skipped-by-moto"
            service = resource["Properties"]["TemplateURL"].removesuffix(".json")
            s3.put_object(Bucket=STACKS, Key=f"{service}.json", Body=json.dumps(transformed[service]).encode())
            resource["Properties"]["TemplateURL"] = f"https://s3.amazonaws.com/{STACKS}/{service}.json"
    parameters = [{"ParameterKey": key, "ParameterValue": "test-value"} for key in root.get("Parameters", {})]
    cloudformation.create_stack(StackName="blytz", TemplateBody=json.dumps(root), Parameters=parameters, Capabilities=["CAPABILITY_IAM"])
    deadline = time.time() + 120
    while True:
        status = cloudformation.describe_stacks(StackName="blytz")["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS") or time.time() > deadline:
            break
        time.sleep(0.5)
    if status != "CREATE_COMPLETE":
        raise SystemExit(f"moto's CloudFormation left the stack {status}")
    created = {}
    for summary in cloudformation.list_stacks()["StackSummaries"]:
        if summary["StackStatus"] != "CREATE_COMPLETE":
            return None
        resources = cloudformation.list_stack_resources(StackName=summary["StackName"])["StackResourceSummaries"]
        for resource in resources:
            created[resource["ResourceType"]] = created.get(resource["ResourceType"], 0) + 1
    functions = len(boto3.client("lambda", **session).list_functions()["Functions"])
    queues = len(boto3.client("sqs", **session).list_queues().get("QueueUrls", []))
    return {"status": status, "created": created, "functions": functions, "queues": queues}


def main():
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    directory = sys.argv[1]
    moto = sys.argv[sys.argv.index("--moto") + 1] if "--moto" in sys.argv else None
    root = json.load(open(os.path.join(directory, "template.json")))
    services = [resource["Properties"]["TemplateURL"].removesuffix(".json")
                for resource in root["Resources"].values() if resource["Type"] == "AWS::CloudFormation::Stack"]
    out = os.path.join(directory, "transformed")
    os.makedirs(out, exist_ok=True)
    problems = []
    summary = {"stacks": []}
    transformed = {}
    checked = [("template", root, os.path.join(directory, "template.json"))]
    for service in services:
        source = os.path.join(directory, f"{service}.json")
        problems += [f"{service}.json (SAM): {line}" for line in lint(source)]
        transformed[service] = transform(json.load(open(source)))
        path = os.path.join(out, f"{service}.json")
        json.dump(transformed[service], open(path, "w"), indent=1)
        checked.append((service, transformed[service], path))
    for name, template, path in checked:
        problems += [f"{name}: {line}" for line in lint(path)]
        measured = measure(name, template)
        summary["stacks"].append(measured)
        for quota, limit in QUOTAS.items():
            if measured[quota] > limit:
                problems.append(f"{name}: {measured[quota]} {quota}, over {limit}")
        found = cycle(template)
        if found:
            problems.append(f"{name}: a dependency cycle {' → '.join(found)}")
    types = {resource["Type"] for _, template, _ in checked for resource in template["Resources"].values()}
    from moto.cloudformation.parsing import resource_class_from_type

    summary["motoSkips"] = sorted(t for t in types if resource_class_from_type(t) is None)
    if moto and not problems:
        summary["moto"] = create_in_moto(moto, root, transformed)
    if problems:
        raise SystemExit("\n".join(problems))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
