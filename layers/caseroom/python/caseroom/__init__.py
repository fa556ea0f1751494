"""CaseRoom's shared domain package (shipped to Lambda as a layer).

Layers point one way: routes (HTTP adapters) -> logic (rules) -> dal (data access).
Only dal modules and caseroom.aws touch boto3.
"""

from caseroom.cold_start_gc import pause_for_cold_start
from caseroom.lazy_packages import defer_known_packages

# Both before anything imports Powertools or botocore: see the two modules.
pause_for_cold_start()
defer_known_packages()
