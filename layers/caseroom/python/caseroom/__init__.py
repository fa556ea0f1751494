"""CaseRoom's shared domain package (shipped to Lambda as a layer).

Layers point one way: routes (HTTP adapters) -> logic (rules) -> dal (data access).
Only dal modules and caseroom.aws touch boto3.
"""
