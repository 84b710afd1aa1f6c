"""Reads a Prometheus text exposition from the file named by its argument with prometheus-client's parser (which refuses
what Prometheus would refuse) and prints its samples as JSON: [{"name", "labels", "value", "type"}]."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = []
for family in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
    for sample in family.samples:
        samples.append({"name": sample.name, "labels": sample.labels, "value": sample.value, "type": family.type})
json.dump(samples, sys.stdout)
