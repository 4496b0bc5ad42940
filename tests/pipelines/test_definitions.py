"""Pipeline creation and validation (SPEC §5.5, §9, §18 `pipeline create|default`)."""

from __future__ import annotations

import json

import pytest

from lightlane.cli import main
from lightlane.datasets.onboard import onboard_file
from lightlane.metadata import Pipeline

from ..helpers import snapshot


@pytest.fixture
def source(workspace, make_events) -> str:
    onboard_file(workspace, make_events(), "src")
    return "src"


def test_default_family(workspace, source) -> None:
    assert main(["--workspace", str(workspace.root), "--quiet", "pipeline", "default", "--source-dataset", source]) == 0
    roles = {p: workspace.load(Pipeline, p).role for p in workspace.ids(Pipeline)}
    assert roles == {"src_vs_poisson": "test", "src_vs_lcpreserve": "test", "src_null_vs_poisson": "negative_control",
                     "src_lane_vs_poisson": "positive_control"}
    lane = workspace.load(Pipeline, "src_lane_vs_poisson")
    assert [t.name for t in lane.a_tasks] == ["generate", "select", "flatten"] and lane.b_input == "a"
    assert lane.a_tasks[0].args.spectrum_from == "input"
    null = workspace.load(Pipeline, "src_null_vs_poisson")
    assert [t.name for t in null.a_tasks] == ["select", "flatten", "poissonize"]


def test_hrc_sources_are_fixed_at_read_not_by_chandrashift(workspace, make_events) -> None:
    with pytest.warns(Warning, match="HRC"):
        meta = onboard_file(workspace, make_events(header={"INSTRUME": "HRC-I"}), "hrc")
    assert meta.time_tag_fix == "hrc-next-event"
    assert main(["--workspace", str(workspace.root), "--quiet", "pipeline", "default", "--source-dataset", "hrc"]) == 0
    for pipeline_id in ("hrc_vs_poisson", "hrc_vs_lcpreserve", "hrc_null_vs_poisson"):
        assert [task.name for task in workspace.load(Pipeline, pipeline_id).a_tasks][:2] == ["select", "flatten"]


def test_create_with_a_tasks_file(workspace, source, tmp_path) -> None:
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps({"a_tasks": ["select", {"task": "downsample", "fraction": 0.5}],
                                 "b_tasks": [{"task": "lcpreserve", "window_s": 100.0}]}))
    assert main(["--workspace", str(workspace.root), "--quiet", "pipeline", "create", "half", "--processing", "default",
                 "--source-dataset", source, "--tasks-file", str(tasks), "--b-input", "a", "--seed", "7"]) == 0
    pipeline = workspace.load(Pipeline, "half")
    assert pipeline.a_tasks[1].args.fraction == 0.5 and pipeline.b_tasks[0].args.window_s == 100.0
    assert pipeline.seed == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source-dataset", "missing", "--a-tasks", "select"], "no dataset 'missing'"),
        (["--source-dataset", "src", "--a-tasks", "select,shuffle"], "got \"shuffle\""),
        (["--source-generation", "sparse", "--a-tasks", "select"], "must begin with 'generate'"),
        (["--source-dataset", "src", "--a-tasks", "generate"], "generation': required"),
        (["--source-dataset", "src", "--processing", "nope"], "meta/processing/nope.json"),
        (["--a-tasks", "select"], "exactly one of --source-dataset and --source-generation"),
    ],
)
def test_bad_pipelines_are_rejected_and_nothing_is_written(workspace, source, capsys, args, message) -> None:
    argv = ["--workspace", str(workspace.root), "pipeline", "create", "bad"]
    if "--processing" not in args:
        argv += ["--processing", "default"]
    before = snapshot(workspace.root)
    assert main(argv + args) == 3
    assert message in capsys.readouterr().err
    assert snapshot(workspace.root) == before


def test_incompatible_generation_band_is_rejected(workspace, source, capsys) -> None:
    generation = workspace.meta_path(Pipeline, "x").parent.parent / "generation" / "sparse.json"
    text = generation.read_text().replace('"band": null', '"band": {"bins": 10, "max_nm": 1.0, "min_nm": 0.1}')
    generation.with_name("coarse.json").write_text(text.replace('"id": "sparse"', '"id": "coarse"'))
    tasks = workspace.root / "t.json"
    tasks.write_text(json.dumps({"a_tasks": [{"task": "generate", "generation": "coarse"}], "b_tasks": []}))
    assert main(["--workspace", str(workspace.root), "pipeline", "create", "coarse_run", "--processing", "default",
                 "--source-dataset", source, "--tasks-file", str(tasks)]) == 3
    assert "band is incompatible" in capsys.readouterr().err
    assert not workspace.exists(Pipeline, "coarse_run")
