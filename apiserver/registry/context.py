"""Who is writing and how: what every write verb of the registry is given."""
from __future__ import annotations

from dataclasses import dataclass, field

from apiserver.machinery.user import UserInfo
from apiserver.registry.attributes import AdmitFunc, admit_nothing

SYSTEM = UserInfo("system:apiserver", groups=("system:masters",))


@dataclass(slots=True)
class WriteContext:
    user: UserInfo = SYSTEM
    dry_run: bool = False
    mutate: AdmitFunc = admit_nothing       # the mutating admission chain
    validate: AdmitFunc = admit_nothing     # the validating admission chain
    options: dict = field(default_factory=dict)  # Create/Update/Patch/DeleteOptions as sent (fieldManager...)
    warnings: list[str] = field(default_factory=list)  # collected from admission, sent as Warning headers
