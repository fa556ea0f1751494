"""CaseRoom's shared domain package (shipped to Lambda as a layer).

Layers point one way: routes (HTTP adapters) -> logic (rules) -> dal (data access).
Only dal modules and caseroom.aws touch boto3.
"""

from caseroom.lazy_packages import defer_known_packages

# Before anything imports Powertools' event handler: see caseroom/lazy_packages.py.
defer_known_packages()
