"""Fuzzing the manifest loader: whatever the file holds, a clean error (exit 2) or a manifest.

In-process properties drive ``load_manifest`` + ``expand`` with random YAML structures and
text, huge numbers, deep nesting, alias bombs and long strings: any exception other than
ManifestError fails the property (and hypothesis shrinks it to the smallest such file).
The worst cases then run as real ``batchrun validate`` processes under a memory limit and
a generous time bound, and as ``plan``/``apply`` behind a counting proxy to prove that a
hostile manifest sends nothing at all.
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchrun.localjma import LocalJMA
from batchrun.manifest import ManifestError, expand, load_manifest
from batchrun.manifest.loader import MAX_BYTES
from tests.batch.conftest import invoke
from tests.batch.loopback import LoopbackProxy
from tests.security.support import KEY
from tests.support import run_batchrun

HEADER = 'version: 1\nbatch: fuzz\nstep: {function: add, version: "1.0.0"}\n'
FIELDS = ["version", "batch", "step", "function", "revision", "local", "steps", "workers", "parameters", "grid",
          "points_file", "max_jobs", "name", "tags", "execution", "submit", "max_running", "retries", "timeout",
          "on_failure", "report", "formats", "dir", "range", "linspace", "logspace", "zip", "exclude", "include"]
MEMORY_LIMIT = 1024 * 1024 * 1024
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

huge_numbers = st.one_of(
    st.integers(), st.integers(min_value=10**15, max_value=10**400), st.floats(),
    st.sampled_from([1e308, -1e308, 2**63, 10**18, 0.0, -0.0, 5e-324]),
)
scalars = st.one_of(st.none(), st.booleans(), huge_numbers, st.text(max_size=40),
                    st.sampled_from(["{{ lr }}", "{{ ''.__class__ }}", "{% for x in y %}", "*a", "&a", "!!python/name:os"]))
keys = st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=10))
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=30,
)
generators = st.fixed_dictionaries({}, optional={
    "range": st.lists(huge_numbers, max_size=4), "linspace": st.lists(huge_numbers, max_size=4),
    "logspace": st.lists(huge_numbers, max_size=4),
})
grids = st.dictionaries(st.sampled_from(["a", "b", "c", "d", "zip", "exclude", "include"]),
                        st.one_of(generators, st.lists(scalars, max_size=4), documents), min_size=1, max_size=4)
yaml_text = st.text(alphabet=st.sampled_from(list(" \n\t-:?[]{},&*!|>'\"%@`#abcxyz019.~<=")), max_size=300)


def _outcome(folder: Path, text: str) -> None:
    """The property: a manifest (expanded) or a ManifestError with a message; nothing else."""
    path = folder / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        expand(load_manifest(path))
    except ManifestError as error:
        assert error.exit_code == 2 and str(error).strip()


def _dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(documents)
def test_random_structures(folder: Path, document: Any) -> None:
    _outcome(folder, _dump(document))


@FUZZ
@given(st.dictionaries(st.sampled_from(FIELDS), documents, max_size=6))
def test_random_fields_under_a_valid_header(folder: Path, fields: dict[str, Any]) -> None:
    _outcome(folder, HEADER + _dump(fields) if fields else HEADER)


@FUZZ
@given(st.one_of(grids, st.lists(grids, min_size=1, max_size=3)), st.one_of(st.none(), st.integers(-2, 2_000_000)))
def test_random_grids_with_huge_numbers(folder: Path, grid: Any, max_jobs: int | None) -> None:
    fields: dict[str, Any] = {"grid": grid, "name": "{{ index }}"}
    if max_jobs is not None:
        fields["max_jobs"] = max_jobs
    _outcome(folder, HEADER + _dump(fields))


@FUZZ
@given(yaml_text)
def test_random_yaml_text(folder: Path, text: str) -> None:
    _outcome(folder, text)
    _outcome(folder, HEADER + text)


@FUZZ
@given(st.integers(1, 6), st.integers(2, 12), st.sampled_from(["[{items}]", "{{k: [{items}]}}", "[[{items}], {items}]"]))
def test_alias_bombs(folder: Path, depth: int, width: int, shape: str) -> None:
    """Billion-laughs variants: each level repeats the one before ``width`` times."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, depth + 1):
        items = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} " + shape.format(items=items))
    _outcome(folder, HEADER + f"parameters:\n  bomb: *l{depth}\n" + "\n".join(lines) + "\n")


@settings(FUZZ, max_examples=40)
@given(st.integers(1, 1000), st.sampled_from(["[", "{a: ", "- "]))
def test_deep_nesting(folder: Path, depth: int, opener: str) -> None:
    closer = {"[": "]", "{a: ": "}", "- ": ""}[opener]
    if opener == "- ":
        body = "".join(f"{'  ' * level}- \n" for level in range(min(depth, 400))) + "  " * min(depth, 400) + "x\n"
    else:
        body = opener * depth + "1" + closer * depth + "\n"
    _outcome(folder, HEADER + "parameters:\n  deep: " + body)


@FUZZ
@given(st.integers(1, MAX_BYTES // 4), st.sampled_from(["name", "batch", "key", "tag", "template"]))
def test_very_long_strings(folder: Path, length: int, where: str) -> None:
    text = "x" * length
    field = {
        "name": f'grid: {{a: [1]}}\nname: "{text}"\n',
        "batch": "",
        "key": f"parameters: {{{text}: 1}}\n",
        "tag": f'tags: ["{text}"]\n',
        "template": f'name: "{{{{ {text} }}}}"\n',
    }[where]
    _outcome(folder, (HEADER.replace("batch: fuzz", f"batch: {text}") if where == "batch" else HEADER) + field)


# -- the worst cases as real processes ------------------------------------------------------------------

WORST = {
    "billion-laughs": HEADER + "parameters: {bomb: *l9}\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    + "".join(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]\n" for n in range(1, 10)),
    "deep-flow": HEADER + "parameters: {deep: " + "[" * 100_000 + "]" * 100_000 + "}\n",
    "deep-block": HEADER + "parameters:\n" + "".join(f"{'  ' * (n + 1)}k{n}:\n" for n in range(3000)),
    "huge-int": HEADER + "parameters: {n: " + "9" * 1_000_000 + "}\n",
    "huge-range": HEADER + "grid:\n  seed: {range: [0, 1e308]}\n",
    "huge-logspace": HEADER + "grid:\n  lr: {logspace: [0, 1e300, 10000000]}\n",
    "cartesian-bomb": HEADER + "grid:\n" + "".join(f"  a{n}: {{range: [0, 1000]}}\n" for n in range(12)),
    "max-jobs-raised": HEADER + "max_jobs: 1000000000000\ngrid:\n" + "".join(
        f"  a{n}: {{range: [0, 1000]}}\n" for n in range(4)),
    "long-template": HEADER + "grid: {a: [1, 2]}\nname: \"" + "{{ a }}" * 200_000 + "\"\n",
    "template-bomb": HEADER + "grid: {a: [1]}\nname: \"{{ ('x' * 999) * 999 }}{{ 9 ** 9 ** 9 }}\"\n",
    "too-big": HEADER + "# " + "x" * MAX_BYTES + "\n",
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


@pytest.fixture
def hostile(tmp_path: Path) -> Callable[[str], Path]:
    def write(case: str) -> Path:
        path = tmp_path / f"{case}.yaml"
        path.write_text(WORST[case], encoding="utf-8")
        return path

    return write


@pytest.mark.parametrize("case", sorted(WORST))
def test_worst_cases_exit_2_within_bounded_time_and_memory(case: str, hostile: Callable[[str], Path]) -> None:
    done = run_batchrun("validate", str(hostile(case)), timeout=30, preexec_fn=_limit_memory)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stdout == "" and done.stderr.startswith("batchrun: ")
    assert "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def counting(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoopbackProxy]:
    database = tmp_path_factory.mktemp("counted") / "jma.sqlite3"
    with LocalJMA(database, workers=0, api_key=KEY) as server, LoopbackProxy(server.url) as proxy:
        yield proxy


@pytest.mark.parametrize("command", ["plan", "apply", "status", "report", "destroy"])
@pytest.mark.parametrize("case", ["billion-laughs", "cartesian-bomb", "template-bomb"])
def test_a_hostile_manifest_sends_nothing(command: str, case: str, hostile: Callable[[str], Path],
                                          counting: LoopbackProxy) -> None:
    before = len(counting.requests)
    confirm = ["--yes"] if command in ("apply", "destroy") else []
    done = invoke([command, str(hostile(case)), "--endpoint", counting.url, "--api-key", KEY, *confirm])
    assert done.exit_code == 2, done.stderr
    assert "Traceback" not in done.stderr and KEY not in done.stdout + done.stderr
    assert counting.requests[before:] == []
