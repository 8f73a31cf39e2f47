"""Broken manifests, each with the exact spot and the message it must produce.

Every case is a file body after a three-line header (lines 1-3: version, batch, step),
plus optional extra files next to it. ``expected`` lists ``(line, column, path,
fragment)``, line and column None for problems with the whole file: the error output must contain ``source:line:column: path: `` followed, on
the same line, by ``fragment`` (``source`` is the manifest, or the points file).
"""

from __future__ import annotations

from dataclasses import dataclass, field

HEADER = 'version: 1\nbatch: demo\nstep: {function: train, version: "1.0.0"}\n'


@dataclass(frozen=True)
class Case:
    id: str
    body: str
    expected: list[tuple[int | None, int | None, str, str]]
    files: dict[str, str | bytes] = field(default_factory=dict)
    header: bool = True
    source: str = "sweep.yaml"
    encoding: str = "utf-8"


CASES = [
    # -- YAML itself -------------------------------------------------------------------
    Case("yaml-unclosed-list", "grid:\n  lr: [0.1, 0.2\n  depth: [1]\n",
         [(6, 8, "", "YAML syntax error: expected ',' or ']'")]),
    Case("yaml-tab-indent", "grid:\n\tlr: [1]\n",
         [(5, 1, "", "YAML does not allow tabs here: indent with spaces")]),
    Case("yaml-bad-indent", "grid:\n  lr: [1]\n   depth: [2]\n",
         [(6, 4, "", "keys of one mapping start in the same column")]),
    Case("yaml-duplicate-key", "grid:\n  lr: [1]\n  lr: [2]\n",
         [(6, 3, "grid.lr", "duplicate key (first written at line 5); keep one")]),
    Case("yaml-two-documents", "grid: {lr: [1]}\n---\ngrid: {lr: [2]}\n",
         [(5, 1, "", "a manifest is one YAML document: remove the extra '---'")]),
    Case("yaml-python-tag", "parameters: {cmd: !!python/object/apply:os.system [ls]}\n",
         [(4, 19, "parameters.cmd", "unsupported YAML tag '!!python/object/apply:os.system'")]),
    Case("yaml-billion-laughs",
         "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
         + "".join(f"{chr(98 + n)}: &{chr(98 + n)} [{', '.join(['*' + chr(97 + n)] * 10)}]\n" for n in range(8)),
         [(4, 20, "", "aliases expand to too many values")]),
    Case("yaml-not-a-mapping", "- version: 1\n", [(1, 1, "", "a manifest is a mapping of fields")], header=False),
    Case("yaml-empty", "", [(1, 1, "", "the manifest is empty")], header=False),
    Case("yaml-huge-document", "# " + "x" * 2_100_000 + "\n",
         [(None, None, "", "is 2,100,068 bytes, more than the 2,000,000 a manifest may have; move long point "
                           "lists into a points_file")]),
    Case("yaml-not-utf8", "name: caf\xe9\n", [(4, 10, "", "is not UTF-8 text; save the file as UTF-8")],
         encoding="latin-1"),
    Case("yaml-key-not-string", "parameters: {1: a}\n", [(4, 14, "parameters", "mapping keys must be plain strings; quote the key")]),
    # -- fields and types ----------------------------------------------------------------
    Case("missing-batch", 'version: 1\nstep: {function: train}\n',
         [(1, 1, "batch", "required field 'batch' is missing; add it, e.g. batch: my-sweep")], header=False),
    Case("missing-function", "version: 1\nbatch: demo\nstep: {version: '1.0.0'}\n",
         [(3, 7, "step.function", "required field 'function' is missing")], header=False),
    Case("wrong-version", "version: 2\nbatch: demo\nstep: {function: train}\n",
         [(1, 10, "version", "unsupported manifest version 2; this batchrun reads version 1")], header=False),
    Case("unknown-top-level", "gird:\n  lr: [1]\n",
         [(4, 1, "gird", "unknown field 'gird' (did you mean 'grid'?)")]),
    Case("unknown-execution-key", "execution: {submit: 2, max_runing: 3}\n",
         [(4, 24, "execution.max_runing", "unknown field 'max_runing' (did you mean 'max_running'?)")]),
    Case("string-for-int", "execution:\n  submit: eight\n",
         [(5, 11, "execution.submit", "Input should be a valid integer, got 'eight'")]),
    Case("bool-for-int", "execution: {retries: true}\n",
         [(4, 22, "execution.retries", "Input should be a valid integer, got True")]),
    Case("zero-submit", "execution: {submit: 0}\n",
         [(4, 21, "execution.submit", "Input should be greater than or equal to 1, got 0")]),
    Case("bad-duration", "execution: {timeout: 10 minutes}\n",
         [(4, 22, "execution.timeout", "'10 minutes' is not a duration; write seconds (90) or a number with a unit")]),
    Case("bad-on-failure", "execution: {on_failure: stop}\n",
         [(4, 25, "execution.on_failure", "Input should be 'continue', 'finish' or 'cancel', got 'stop'")]),
    Case("unquoted-step-version", "version: 1\nbatch: demo\nstep: {function: train, version: 1.10}\n",
         [(3, 34, "step.version", 'quote the version, e.g. version: "1.1"')], header=False),
    Case("invalid-step-version", "version: 1\nbatch: demo\nstep: {function: train, version: v1}\n",
         [(3, 34, "step.version", "invalid version 'v1'")], header=False),
    Case("batch-name-spaces", "version: 1\nbatch: my sweep\nstep: {function: train}\n",
         [(2, 8, "batch", "'my sweep' is not allowed here; use letters, digits")], header=False),
    Case("bad-function-name", "version: 1\nbatch: demo\nstep: {function: train-model}\n",
         [(3, 18, "step.function", "'train-model' is not allowed here; use letters, digits and '_'")], header=False),
    Case("bad-report-format", "report: {formats: [json, pdf]}\n",
         [(4, 26, "report.formats[1]", "Input should be 'json', 'csv', 'md' or 'html', got 'pdf'")]),
    Case("plot-unknown-field", "grid: {lr: [0.1, 0.2]}\nreport:\n  plots:\n    - {x: lr, y: result.loss, colour: lr}\n",
         [(7, 31, "report.plots[0].colour", "unknown field 'colour' (did you mean 'color'?)")]),
    Case("plot-x-not-an-axis", "grid: {lr: [0.1, 0.2], depth: [1, 2]}\nreport:\n  plots:\n    - {x: depht, y: result.loss}\n",
         [(7, 11, "report.plots[0].x", "'depht' is not a swept axis or a result field (did you mean 'depth'?); "
                                       "use an axis of the grid, or result or result.<field> for the step's result; "
                                       "swept axes: lr, depth")]),
    Case("plot-unknown-kind", "grid: {lr: [0.1, 0.2]}\nreport: {plots: [{x: lr, y: lr, kind: bars}]}\n",
         [(5, 39, "report.plots[0].kind", "Input should be 'scatter' or 'line', got 'bars'")]),
    Case("plot-y-an-axis", "grid: {lr: [0.1, 0.2]}\nreport: {plots: [{x: result.loss, y: lr}]}\n",
         [(5, 38, "report.plots[0].y", "'lr' is not a result field; use result or result.<field> for the step's result")]),
    Case("nan-parameter", "parameters: {scale: .nan}\n",
         [(4, 21, "parameters.scale", "nan cannot be written as JSON")]),
    Case("reserved-tag", "tags: [batchrun.key=abc]\n",
         [(4, 8, "tags[0]", "tags starting with 'batchrun.' are reserved")]),
    Case("steps-file-missing", "local: {steps: [nowhere.py]}\n",
         [(4, 17, "local.steps[0]", "file not found:")]),
    Case("several-errors-together", "execution: {submit: 0}\nreport: {formats: [pdf]}\ngird: 1\n",
         [(4, 21, "execution.submit", "greater than or equal to 1"),
          (5, 20, "report.formats[0]", "got 'pdf'"),
          (6, 1, "gird", "did you mean 'grid'?")]),
    # -- generators and axes -----------------------------------------------------------
    Case("range-stop-before-start", "grid:\n  depth: {range: [5, 1]}\n",
         [(5, 18, "grid.depth.range", "stop must be greater than start (got [5, 1]); swap them or give a negative step")]),
    Case("range-zero-step", "grid:\n  depth: {range: [0, 5, 0]}\n",
         [(5, 18, "grid.depth.range", "step must not be 0")]),
    Case("misspelt-generator", "grid:\n  depth: {rnage: [1, 5]}\n",
         [(5, 11, "grid.depth.rnage", "unknown field 'rnage' (did you mean 'range'?)")]),
    Case("range-one-bound", "grid:\n  depth: {range: [5]}\n",
         [(5, 18, "grid.depth.range", "needs at least 2 entries, got 1")]),
    Case("linspace-float-count", "grid:\n  lr: {linspace: [0, 1, 2.5]}\n",
         [(5, 18, "grid.lr.linspace", "num (the third value) must be a whole number of at least 1, got 2.5")]),
    Case("generator-non-number", "grid:\n  lr: {logspace: [-3, high, 3]}\n",
         [(5, 23, "grid.lr.logspace[1]", "must be a number, got 'high'")]),
    Case("scalar-axis", "grid:\n  lr: 0.1\n",
         [(5, 7, "grid.lr", "an axis takes a list of values (e.g. [0.1, 0.2]) or one generator")]),
    Case("empty-axis", "grid:\n  lr: []\n", [(5, 7, "grid.lr", "is empty; add at least one entry or remove the field")]),
    Case("repeated-axis-value", "grid:\n  lr: [0.1, 0.2, 0.1]\n",
         [(5, 7, "grid.lr", "value 0.1 is listed twice (positions 0 and 2); remove one")]),
    Case("zip-unequal", "grid:\n  zip: {a: [1, 2], b: [x, y, z]}\n",
         [(5, 8, "grid.zip", "zipped lists must have equal length: a has 2, b has 3")]),
    Case("misspelt-exclude", "grid:\n  lr: [1, 2]\n  exlude: [{lr: 1}]\n",
         [(6, 3, "grid.exlude", "'exlude' looks like a misspelt 'exclude'")]),
    Case("grid-wrong-type", "grid: 5\n", [(4, 7, "grid", "grid takes a mapping of axes, or a list of such mappings")]),
    # -- grid algebra ----------------------------------------------------------------------
    Case("exclude-unknown-axis", "grid:\n  lr: [1, 2]\n  depth: [1]\n  exclude: [{lrr: 1}]\n",
         [(7, 14, "grid.exclude[0].lrr", "'lrr' is not an axis of this grid (did you mean 'lr'?); axes: lr, depth")]),
    Case("exclude-matches-nothing", "grid:\n  lr: [1, 2]\n  exclude:\n    - {lr: 3}\n",
         [(7, 7, "grid.exclude[0]", "matches no point of this grid; fix its values or remove it")]),
    Case("include-partial-point", "grid:\n  lr: [1, 2]\n  depth: [1]\n  include: [{lr: 5}]\n",
         [(7, 13, "grid.include[0]", "lacks depth; an include entry is a full point: give every axis (lr, depth)")]),
    Case("fixed-and-swept", "parameters: {lr: 0.1}\ngrid:\n  lr: [1, 2]\n",
         [(6, 3, "grid.lr", "'lr' is both fixed in parameters and swept here; remove it from one of them")]),
    Case("empty-grid", "grid: {}\n", [(4, 7, "grid", "this grid has no axes and no include entries")]),
    Case("everything-excluded", "grid:\n  lr: [1]\n  exclude: [{lr: 1}]\n",
         [(4, 1, "grid", "expands to no jobs (every point is excluded)")]),
    Case("absurd-size", "grid:\n" + "".join(f"  a{n}: {{range: [0, 100]}}\n" for n in range(10)),
         [(4, 1, "grid", "expands to 100,000,000,000,000,000,000 points, more than max_jobs (1,000,000)")]),
    Case("huge-axis", "grid:\n  seed: {range: [0, 1000000000000]}\n",
         [(5, 17, "grid.seed.range", "gives 1,000,000,000,000 values, more than the 10,000,000 an axis may have")]),
    Case("over-max-jobs", "max_jobs: 5\ngrid:\n  lr: [1, 2, 3]\n  depth: [1, 2]\n",
         [(5, 1, "grid", "expands to 6 points, more than max_jobs (5); narrow the grid, or raise the cap with max_jobs: 6")]),
    Case("duplicate-points-union", "grid:\n  - lr: [1, 2]\n  - lr: [2, 3]\n",
         [(6, 5, "", "duplicate point: job 2 (grid[1] product point 0) has the same parameters as job 1 "
                     "(grid[0] product point 1) (lr=2); remove one")]),
    Case("duplicate-include", "grid:\n  lr: [1, 2]\n  include: [{lr: 1.0}]\n",
         [(6, 13, "", "duplicate point: job 2 (grid.include[0], line 6) has the same parameters as job 0")]),
    # -- templates -----------------------------------------------------------------------------
    Case("template-syntax", "grid: {lr: [1]}\nname: \"run-{{ lr }\"\n",
         [(5, 7, "name", "template syntax error: unexpected '}'")]),
    Case("template-undefined", "grid: {lr: [1]}\nname: \"run-{{ lrr }}\"\n",
         [(5, 7, "name", "'lrr' is undefined (did you mean 'lr'?); available: batch, index, key, lr, params")]),
    Case("sandbox-dunder", "name: \"{{ ''.__class__.__mro__[1].__subclasses__() }}\"\n",
         [(4, 7, "name", "the template tried an unsafe operation")]),
    Case("sandbox-globals", "name: \"{{ lipsum.__globals__.os.environ }}\"\n",
         [(4, 7, "name", "'lipsum' is undefined")]),
    Case("sandbox-include", "name: \"{% include '/etc/passwd' %}\"\n",
         [(4, 7, "name", "templates cannot include, import or extend other templates")]),
    Case("sandbox-huge-string", "name: \"{{ 'x' * 100000000 }}\"\n",
         [(4, 7, "name", "unsafe operation (repeating a value that many times is not allowed)")]),
    Case("duplicate-names", "grid: {lr: [1, 2], depth: [3]}\nname: \"run-{{ depth }}\"\n",
         [(5, 7, "name", "2 jobs share a name, e.g. jobs 0 and 1 render to 'run-3'; put what differs (lr) into the name template")]),
    Case("many-duplicate-names", "grid: {lr: [1, 2, 3, 4, 5, 6, 7], depth: [3, 4]}\nname: \"run-{{ depth }}\"\n",
         [(5, 7, "name", "14 jobs share a name, e.g. jobs 0, 2, 4, 6, 8 and 2 more render to 'run-3'; put what "
                         "differs (lr) into the name template")]),
    Case("tag-renders-reserved", "grid: {lr: [1]}\ntags: [\"{{ 'batch' }}run.x\"]\n",
         [(5, 8, "tags[0]", "renders to 'batchrun.x', in the reserved 'batchrun.' namespace")]),
    # -- points files ----------------------------------------------------------------------------
    Case("points-file-missing", "points_file: points.csv\n",
         [(4, 14, "points_file", "file not found:")]),
    Case("points-file-is-folder", "points_file: points.csv\n",
         [(4, 14, "points_file", "is a folder, not a file:")], files={"points.csv/keep": ""}),
    Case("points-file-bad-json", "points_file: points.jsonl\n",
         [(2, 10, "", "invalid JSON: Expecting ',' delimiter")],
         files={"points.jsonl": '{"lr": 1}\n{"lr": 2 "depth": 3}\n'}, source="points.jsonl"),
    Case("points-file-short-row", "points_file: points.csv\n",
         [(3, 1, "", "has 1 value(s), but the header names 2 columns")], files={"points.csv": "lr,depth\n1,2\n3\n"}, source="points.csv"),
    Case("points-file-not-utf8", "points_file: points.csv\n",
         [(2, 1, "", "not UTF-8 text")], files={"points.csv": b"lr\n\xff\n"}, source="points.csv"),
    Case("points-file-suffix", "points_file: points.txt\n",
         [(4, 14, "points_file", "unsupported file type '.txt'; use .csv, .jsonl or .ndjson")],
         files={"points.txt": "lr\n1\n"}),
    Case("points-file-over-max-jobs", "max_jobs: 3\ngrid: {lr: [1, 2]}\npoints_file: points.jsonl\n",
         [(3, 1, "", "more points than max_jobs leaves room for (1 after the grid's); raise max_jobs")],
         files={"points.jsonl": '{"lr": 3}\n\n{"lr": 4}\n'}, source="points.jsonl"),
    Case("points-file-fixed-key", "parameters: {lr: 1}\npoints_file: points.csv\n",
         [(2, 1, "lr", "'lr' is fixed in parameters; remove it from the file")], files={"points.csv": "lr\n2\n"}, source="points.csv"),
]
