"""Renders a (tokenized) IAM resource the way cdk-nag names it in a finding id.

cdk-nag 3.x acknowledgements match finding ids exactly, e.g.
AwsSolutions-IAM5[Resource::<FilesBucketABCD1234.Arn>/*]; the logical id in it is
computed here from the construct tree instead of being copied from a synth log.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Stack
from constructs import IConstruct


def nag_resource(scope: IConstruct, value: str) -> str:
    """Same flattening as cdk-nag's flattenCfnReference."""
    return _flatten(Stack.of(scope).resolve(value))


def _flatten(node: Any) -> str:
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(_flatten(item) for item in items)
        if "Fn::Sub" in node:
            return _flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{_flatten(resource)}.{_flatten(attribute)}>"
        if "Fn::ImportValue" in node:
            return _flatten(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{_flatten(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))
