"""``lightlane download URL [--id ID] [--jobs 4] [--retries 3] [--timeout 600] [--min-rate 1000]`` (SPEC §17)."""

# No ``from __future__ import annotations``: argparse-dataclass reads the field
# types at runtime, so they must be real types rather than strings.
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..metadata.schema import Check
from .common import JOBS, GlobalOptions, run_command, say

__all__ = ["Options", "main"]


@dataclass(frozen=True)
class Options:
    """Options of ``lightlane download``."""

    url: str = field(metadata={"args": ["url"], "help": "archive staging directory (an HTML listing)"})
    id: str | None = field(
        default=None, metadata={"type": str, "help": "dataset id (default obs<OBS_ID>; _2, _3 ... for more)"}
    )
    jobs: int = field(default=4, metadata={"help": "parallel file downloads", "check": JOBS})
    retries: int = field(default=3, metadata={"help": "extra attempts per request after the first",
                                              "check": Check(lambda v: 0 <= v <= 100, "an integer in [0, 100]")})
    timeout: float = field(default=600.0, metadata={"help": "per-file deadline in seconds, every attempt included",
                                                    "check": Check(lambda v: v > 0, "a number > 0 (seconds)")})
    min_rate: float = field(default=1000.0, metadata={
        "help": "abort (then retry) a transfer slower than this many bytes/s over 30 s; 0: no minimum",
        "check": Check(lambda v: v >= 0, "a number ≥ 0 (bytes/s)")})


def _execute(options: Options, globals: GlobalOptions) -> int:
    from ..datasets.download import check_url, download
    from ..datasets.remote import Limits

    check_url(options.url)
    limits = Limits(deadline_s=options.timeout, min_rate_bytes_per_s=options.min_rate)
    ws = globals.ws
    ws.require_initialised()
    with ws.lock():
        metas = download(
            ws,
            options.url,
            dataset_id=options.id,
            jobs=options.jobs,
            retries=options.retries,
            quiet=globals.quiet,
            limits=limits,
        )
    for meta in metas:
        say(f"{meta.id}\t{meta.event_count} events")
    return 0


def main(argv: Sequence[str]) -> int:
    """Run ``lightlane download`` with ``argv`` (the arguments after the subcommand)."""
    return run_command(Options, argv, _execute, prog="lightlane download",
                       description="Download an archive staging directory and onboard its evt2 files.")
