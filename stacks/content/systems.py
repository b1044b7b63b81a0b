"""The systems the content monitors (systems/<system>.yml): the scrape jobs each one's series come from, and
its metrics contract (histogram buckets). Every rule and panel of a system selects its own jobs, with the one
matcher job=~"<system>-.+"; the platform's jobs are the stack's own services (stacks/layout.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stacks.content._names import ALWAYS_DEPLOYED, ROOT, relative, system_of
from stacks.content._yaml import load_yaml
from stacks.errors import Problems, Reader
from stacks.layout import JOB_NAME, SERVICES
from stacks.settings_scraping import APP_DISCOVERY_JOB


@dataclass(frozen=True)
class System:
    name: str
    jobs: tuple[str, ...]
    """The scrape jobs its series come from."""
    histograms: dict[str, tuple[float, ...]] = field(default_factory=dict)
    """Histogram -> its finite bucket boundaries, ascending, as the application registers them."""

    @property
    def declared_in(self) -> str:
        return (
            "the stack's own services, stacks/layout.py" if self.name == ALWAYS_DEPLOYED else f"systems/{self.name}.yml"
        )

    @property
    def job_matcher(self) -> str:
        """The matcher its rules and panels select their series with."""
        if self.name == ALWAYS_DEPLOYED:
            return f'job=~"{"|".join(self.jobs)}"'
        return f'job=~"{self.name}-.+"'


# The platform watches the stack itself: Prometheus scrapes each service under its name (stacks/render/prometheus.py).
PLATFORM = System(ALWAYS_DEPLOYED, tuple(service.name for service in SERVICES))
# Jobs no system owns: application containers found by discovery without a `monitoring.job` label.
UNOWNED_JOBS = (APP_DISCOVERY_JOB,)
_NUMBER = (int, float)


def load_systems(directory: Path, problems: Problems, root: Path = ROOT) -> dict[str, System]:
    """systems/<system>.yml, and the platform; each system's jobs are named <system>-<something>."""
    systems = {PLATFORM.name: PLATFORM}
    for path in sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]):
        name, system = relative(path, root), system_of(path.stem)
        data = load_yaml(path.read_text(encoding="utf-8"), name, problems)
        top = Reader(data, "", problems, ("histograms", "jobs"), file=name, expected="a mapping of jobs and histograms")
        jobs = top.mapping("jobs", expected="a mapping of scrape job names to what they scrape")
        if not jobs:
            top.add("jobs", "is required: the scrape jobs this system's series come from")
        for job in jobs:
            if not isinstance(job, str) or not JOB_NAME.match(job) or not job.startswith(f"{system}-"):
                top.add(f"jobs.{job}", f"must be a job name starting with '{system}-' (its matcher is {system}-.+)")
        histograms = {}
        for metric, buckets in top.mapping("histograms", expected="a mapping of histogram names to buckets").items():
            if not (
                isinstance(buckets, list)
                and buckets
                and all(isinstance(b, _NUMBER) and not isinstance(b, bool) for b in buckets)
                and buckets == sorted(set(buckets))
            ):
                top.add(f"histograms.{metric}", f"must be ascending bucket boundaries (numbers), got {buckets!r}")
                continue
            histograms[str(metric)] = tuple(float(b) for b in buckets)
        systems[system] = System(system, tuple(str(job) for job in jobs), histograms)
    return systems
