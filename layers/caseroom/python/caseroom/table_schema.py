"""The single table's key schema and indexes.

Declared here, inside the Lambda layer, because data-access code needs the index names at
run time; infra.manifest re-exports it so the CDK stack and the local runtime build the
table from this same declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GlobalIndex:
    name: str
    partition_key: str
    sort_key: str


@dataclass(frozen=True)
class Table:
    name: str
    partition_key: str
    sort_key: str
    ttl_attribute: str
    indexes: tuple[GlobalIndex, ...] = field(default_factory=tuple)


# The columns a case list can be sorted by, each served by its own index so that a page
# of any ordering is one Query sized by the page (see caseroom/cases/dal.py).
CASE_SORT_INDEXES: dict[str, GlobalIndex] = {
    column: GlobalIndex(name=f"byOwner-{column}", partition_key="ownerList", sort_key=f"sort_{column}")
    for column in ("attention", "caseId", "patient", "status", "lastModified", "dueDate")
}
LAB_QUEUE_INDEX = GlobalIndex(name="byLab-attention", partition_key="labList", sort_key="sort_attention")
# Files of one gallery of one case, newest first (sparse: deleted and expired files leave it).
GALLERY_FILES_INDEX = GlobalIndex(
    name="byGallery-created", partition_key="galleryList", sort_key="sort_created"
)

TABLE = Table(
    name="caseroom",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="ttl",
    indexes=(*CASE_SORT_INDEXES.values(), LAB_QUEUE_INDEX, GALLERY_FILES_INDEX),
)
