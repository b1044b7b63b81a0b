"""data-volumes-retained (a stack policy: it needs each volume's parent component): a data volume survives
`pulumi destroy` and a replacement."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._shared import PolicySpec, Resource, Violation

VOLUME = "docker:index/volume:Volume"
# What ServiceComponent reports about its data volume: retain_on_delete itself never reaches a policy
# pack (the engine's AnalyzerResourceOptions carry protect, not retainOnDelete).
RETAINED_OUTPUT = "dataVolumeRetained"


def data_volumes_retained(resources: list[Resource], config: Mapping[str, Any]) -> list[Violation]:
    violations = []
    for volume in resources:
        if volume.type != VOLUME:
            continue
        name = volume.props.get("name") or volume.name
        parent = volume.parent
        declared = parent.props.get(RETAINED_OUTPUT) if parent is not None else None
        if declared is True:
            continue
        if declared is None:
            message = (
                f"data volume {name} does not say whether it is retained (its parent reports no "
                f"'{RETAINED_OUTPUT}' output): create data volumes through stacks.resources.service.ServiceComponent."
            )
        else:
            message = (
                f"data volume {name} is not retained: `pulumi destroy` or a replacement would delete its data; "
                "set protectVolumes: true in Pulumi.<stack>.yaml."
            )
        violations.append(Violation(message, volume.urn))
    return violations


POLICY = PolicySpec(
    "data-volumes-retained",
    "Data volumes are retained when Pulumi deletes or replaces them.",
    data_volumes_retained,
    stack=True,
)
