"""Command-line interface: parses options, calls the pipeline, reports.

Heavy modules (numba, pyarrow, the pipeline) are imported inside commands so
that ``graphlabor --help`` and ``graphlabor --version`` answer fast.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from . import params as P
from ._version import __version__

if TYPE_CHECKING:
    import pyarrow as pa

    from .results import AttributionResult

_P = ParamSpec("_P")
_R = TypeVar("_R")
_F = TypeVar("_F", bound=Callable[..., Any])


def _parse_kind_weight(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> dict[str, float]:
    from .errors import ParameterError
    from .params import check_kind_weight

    out = {}
    for v in values:
        kind, sep, w = v.partition("=")
        if not sep or not kind.strip():
            raise click.BadParameter(f"{v!r} is not KIND=WEIGHT (for example click=0.5)", param=param)
        try:
            out[kind.strip()] = check_kind_weight(kind.strip(), w)
        except ParameterError as e:
            raise click.BadParameter(f"{v!r}: {str(e).partition(': ')[2]}", param=param) from None
    return out


def _parse_kinds(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(k.strip() for k in value.split(",") if k.strip())


def _ignore_interrupts() -> None:
    """Ignore further Ctrl-C and SIGTERM while an interrupted run reports and exits.

    The first signal has done its work (the run unwound, temporary files are
    gone); a second one, from an impatient user or re-sent by a library that
    caught the first in C code (pyarrow's CSV reader re-emits the signal it caught), must
    not turn exit code 130 into a death by signal. Only the main thread can
    set handlers (the CLI under a test runner's thread cannot): then nothing
    changes.

    And CPython's record of an unhandled Ctrl-C is cleared: when the
    KeyboardInterrupt went through code run from a string (``exec``/``eval``
    of source text, as numba, dataclasses and namedtuple do), CPython notes
    it as unhandled even though it was caught here, and a ``python -m
    graphlabor`` process then kills itself with SIGINT at exit instead of
    returning 130 (CPython's ``run_eval_code_obj`` sets the flag and
    ``Py_RunMain`` reads it; every string evaluation starts by clearing it,
    hence the ``eval`` below).
    """
    import signal

    eval("None")  # clears CPython's unhandled-KeyboardInterrupt flag (see above)
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, signal.SIG_IGN)
        except ValueError:  # not in the main thread
            return


def _save_kernel_record() -> None:
    """After a command that ended well: write the record of the kernels it called (see :func:`_fast_start`)."""
    jit = sys.modules.get("graphlabor.kernels._jit")
    if jit is not None:
        jit.save_kernel_record()


def _terminate_as_interrupt() -> None:
    """Treat SIGTERM like Ctrl-C, so that temporary output files are cleaned up."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not in the main thread (e.g. CliRunner in a thread)
        pass


#: API parameter -> command-line flag, where the flag is not ``--`` + the name with dashes.
_FLAGS = {"kind_weights": "--kind-weight", "edges": "EDGES", "nodes": "--nodes", "breakdown": "--no-breakdown"}


def flag(param: str) -> str:
    """The command-line flag of an API parameter: ``group_by`` -> ``--group-by``.

    >>> flag("group_by"), flag("kind_weights")
    ('--group-by', '--kind-weight')
    """
    return _FLAGS.get(param, "--" + param.replace("_", "-"))


def _as_flags(e: BaseException) -> str:
    """The error's message with the API parameters it names written as flags (the one place this happens)."""
    import re

    msg = str(e)
    for p in getattr(e, "params", ()):
        msg = re.sub(rf"(?<![\w'\"-]){re.escape(p)}(?![\w'\"-])", flag(p), msg)  # not inside a quoted value
    return msg


def _handle_errors(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn library errors into one line on stderr and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        debug = click.get_current_context().find_root().params.get("debug", False)
        _terminate_as_interrupt()
        try:
            rv = fn(*args, **kwargs)
            _save_kernel_record()
            return rv
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except KeyboardInterrupt:
            _ignore_interrupts()
            click.echo("graphlabor: interrupted; no partial output file left", err=True)
            sys.exit(130)
        except BrokenPipeError:
            # the reader of stdout went away (`graphlabor ... | head`): stop quietly
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as e:
            if debug:
                raise
            from .errors import GraphlaborError

            if isinstance(e, GraphlaborError):
                click.echo(f"Error: {_as_flags(e)}", err=True)
                sys.exit(e.exit_code)
            if isinstance(e, MemoryError):
                click.echo("Error: out of memory (see `graphlabor attribute --help` for options that reduce it)", err=True)
                sys.exit(1)
            click.echo(f"Error: unexpected {type(e).__name__}: {e} (run with --debug for a traceback)", err=True)
            sys.exit(1)

    return wrapper


_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


class _OneLineGroup(click.Group):
    """A click group whose usage errors are one line on stderr (exit code 2).

    Click prints a usage error as the usage, a hint and the message (four
    lines); graphlabor prints only ``Error: <message>``, like its other errors.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.Abort:
            _ignore_interrupts()
            click.echo("graphlabor: interrupted", err=True)
            sys.exit(130)
        except click.ClickException as e:
            if isinstance(e, _NO_ARGS_IS_HELP):  # `graphlabor` alone: the help text
                e.show()
            else:
                click.echo("Error: " + " ".join(e.format_message().split()), err=True)
            sys.exit(e.exit_code)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(cls=_OneLineGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="graphlabor")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def main(debug: bool) -> None:
    """graphlabor: attribute platform revenue to the digital labor that produced it.

    Reads edge lists of who acted on whom (users, platforms, advertisers),
    propagates the money platforms receive back to the people whose
    activity produced it, and sets that beside what each was paid.
    """


def _model_options(fn: _F) -> _F:
    """Options shared by the commands that run an attribution."""
    options = [
        click.option("--nodes", type=click.Path(), help="Nodes file: id, role, value, hours and extra columns."),
        click.option("--method", type=click.Choice(["propagate", "direct", "shapley"]), default=P.METHOD, show_default=True, help="Attribution method (see docs/model.md)."),
        click.option("--damping", type=float, default=P.DAMPING, show_default=True, help="Share a user passes on, in [0, 1)."),
        click.option("--platform-share", type=float, default=P.PLATFORM_SHARE, show_default=True, help="Share a platform keeps, in [0, 1]."),
        click.option("--kind-weight", multiple=True, callback=_parse_kind_weight, metavar="KIND=W", help="Weight of a contribution kind (repeatable; default 1)."),
        click.option("--revenue-kinds", callback=_parse_kinds, default=",".join(P.DEFAULT_REVENUE_KINDS), show_default=True, help="Comma-separated kinds that carry revenue."),
        click.option("--pay-kinds", callback=_parse_kinds, default=",".join(P.DEFAULT_PAY_KINDS), show_default=True, help="Comma-separated kinds that carry pay."),
        click.option("--half-life", metavar="DURATION", help="Contribution weights decay as 2^(-age/half-life); e.g. 12h, 30d, 1y."),
        click.option("--as-of", metavar="TIME", help="Reference time for --half-life (ISO date or epoch seconds; default: latest timestamp)."),
        click.option("--tol", type=float, default=P.TOL, show_default=True, help="Stop when the L1 change < tol x injected total."),
        click.option("--max-iter", type=int, default=P.MAX_ITER, show_default=True, help="Most passes over the flow matrix."),
        click.option("--solver", type=click.Choice(list(P.SOLVERS)), default=P.SOLVER, show_default=True, help="bicgstab (true residual checked at the end) or jacobi (power iteration, stops when the value in flight < tol)."),
        click.option("--src-col", help="Name of the source id column (default src or source)."),
        click.option("--dst-col", help="Name of the target id column (default dst or target)."),
        click.option("--id-type", type=click.Choice(["text", "int"]), help="Force the ids' type (default: text if any file has text ids, else integers)."),
        click.option("--allow-empty", is_flag=True, help="Accept input with no edges or no injected value (the result is then all zeros)."),
        click.option("--context-col", default="context", show_default=True, help="Edge column naming the campaign, task batch or ride an edge belongs to (read when present; '' ignores contexts)."),
        click.option("--unmatched", type=click.Choice(["pool", "keep"]), default="pool", show_default=True, help="Revenue of a (platform, context) that no contribution carries: to the platform's pool, or kept by it."),
        click.option("--self-loops", type=click.Choice(["drop", "keep"]), default="drop", show_default=True, help="Contribution edges a -> a: dropped, or kept as ordinary edges (PageRank keeps them)."),
        click.option("--roles", "roles_mode", type=click.Choice(["infer", "strict"]), default="infer", show_default=True, help="strict: every node's role must come from the nodes file."),
        click.option("--threads", type=click.IntRange(1), help="Numba threads (default: all cores)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _engine_options(fn: _F) -> _F:
    """Where a command runs: this process, or a Dask cluster (``attribute`` and ``explain``)."""
    options = [
        click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True, help="Where to run: this process, or a Dask cluster (pip install 'graphlabor[distributed]'; see docs/distributed.md)."),
        click.option("--scheduler", metavar="ADDRESS", help="With --engine dask: a running Dask scheduler (tcp://host:8786) instead of a local cluster."),
        click.option("--workers", type=click.IntRange(1), help="With --engine dask: worker processes of the local cluster (default: the cores)."),
        click.option("--worker-memory", metavar="SIZE", help="With --engine dask: memory limit per local worker (e.g. 4GiB)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _local_only(engine: str, **options: Any) -> None:
    """Refuse the Dask-only options (``--scheduler``...) with ``--engine local``."""
    if engine == "local":
        for name, value in options.items():
            if value is not None:
                raise click.UsageError(f"--{name.replace('_', '-')} needs --engine dask")


def _fast_start(engine: str, command: str | None = None) -> None:
    """Start-up choices of a local run: numba may skip its SciPy probe, pyarrow its pandas checks.

    This process runs only graphlabor's kernels, so numba, when the run
    loads it (in the background, from the first stage on:
    :func:`graphlabor.kernels._jit.warm_up`), may skip importing
    ``scipy.linalg`` (0.2 s). pyarrow imports pandas (0.3-0.5 s) the first
    time it converts a NumPy array or Python object, only to ask whether that
    is a pandas object (or ``pd.NA``); a local run from files never holds one,
    so pyarrow is told pandas is absent, once, for those questions (it still
    imports pandas when asked for a DataFrame). The Dask engine hands pandas
    objects to pyarrow: it keeps pyarrow's checks, and numba its probe.
    With ``command``, the kernels this run calls are recorded when it ends well and
    those of the last run of that command load in the warm-up thread
    (:func:`graphlabor.kernels._jit.remember_kernels`).
    """
    if engine != "local":
        return
    from .kernels import _jit

    _jit.probe_scipy(False)
    if command is not None:
        _jit.remember_kernels(command)
    if "pandas" not in sys.modules:
        import pyarrow as pa

        with _jit.hidden("pandas"):  # pyarrow's two pandas checks (its Python shim, its C++ conversions) find none
            pa.array([], pa.bool_())
            pa.scalar(0)


def _set_threads(threads: int | None) -> None:
    if threads:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]


def _model_kwargs(o: dict[str, Any]) -> dict[str, Any]:
    return dict(
        method=o["method"], damping=o["damping"], platform_share=o["platform_share"],
        kind_weights=o["kind_weight"], revenue_kinds=o["revenue_kinds"], pay_kinds=o["pay_kinds"],
        half_life=o["half_life"], as_of=o["as_of"], tol=o["tol"], max_iter=o["max_iter"], solver=o["solver"],
        src_col=o["src_col"], dst_col=o["dst_col"], id_type=o["id_type"], allow_empty=o["allow_empty"],
        context_col=o["context_col"], unmatched=o["unmatched"], self_loops=o["self_loops"], roles=o["roles_mode"],
    )


def _write_outputs(result: Any, log: Any, output: str | None, platforms_out: str | None, groups_out: str | None,
                   contexts_out: str | None, roles_out: str | None, context_col: str) -> None:
    if contexts_out and result.contexts is None:
        raise click.UsageError(f"--contexts: the edges have no {context_col!r} column")
    if output or platforms_out or groups_out or contexts_out or roles_out:
        from .output import write_table

        with log.stage("write"):
            if contexts_out:
                write_table(result.contexts, contexts_out)
            if roles_out:
                write_table(result.roles_report, roles_out)
            if output:
                result.write(output)
            if platforms_out:
                result.write_platforms(platforms_out)
            if groups_out:
                result.write_groups(groups_out)


@main.command()
@click.argument("edges", nargs=-1, required=True, type=click.Path())
@_model_options
@click.option("-o", "--output", type=click.Path(), help="Write one row per node (.parquet, .csv, .json, .jsonl); a path ending in a slash, or a directory: a Parquet dataset (one file per row block; written by the workers with --engine dask).")
@click.option("--summary-json", type=click.Path(), help="Write the summary (and per-stage timings) as JSON.")
@click.option("--period", type=click.Choice(["day", "week", "month", "quarter", "year"]), help="One attribution per calendar period (UTC), stacked with a period column.")
@click.option("--platforms", "platforms_out", type=click.Path(), help="Write one row per platform: revenue, paid out, capture, contributors...")
@click.option("--contexts", "contexts_out", type=click.Path(), help="Write one row per (platform, context): revenue, paid out, passed to users, contributors, unmatched.")
@click.option("--roles-report", "roles_out", type=click.Path(), help="Write the nodes whose edges give evidence for more than one role, with that evidence.")
@click.option("--group-by", help="A nodes-file column (family, country...): per-group statistics of users.")
@click.option("--groups", "groups_out", type=click.Path(), help="Write the --group-by table to a file.")
@click.option("--min-wage", type=float, help="With nodes-file hours: flag users whose value per hour reaches it while their pay does not.")
@click.option("--no-breakdown", is_flag=True, help="Skip the per-kind via_* columns (the flow graph is then built without its split by kind).")
@click.option("--top", type=click.IntRange(0), default=10, show_default=True, help="Top users to print when no -o is given.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@_engine_options
@click.option("--single-file-limit", metavar="SIZE", help="With --engine dask: largest result a single-file -o gathers into this process (default 2GiB); above it, use -o DIR/.")
@_handle_errors
def attribute(edges: tuple[str, ...], output: str | None, summary_json: str | None, period: str | None,
              platforms_out: str | None, contexts_out: str | None, roles_out: str | None, group_by: str | None,
              groups_out: str | None, min_wage: float | None, no_breakdown: bool, top: int, quiet: bool, engine: str,
              scheduler: str | None, workers: int | None, worker_memory: str | None, single_file_limit: str | None,
              **o: Any) -> None:
    """Attribute injected value along EDGES (Parquet, CSV, Arrow IPC files or Parquet directories).

    \b
    Example:
      graphlabor attribute edges.parquet --nodes nodes.parquet -o attributed.parquet
    """
    _fast_start(engine, "attribute")
    from .output import check_dataset_writable, check_writable, is_dataset_path

    for path, is_table in ((output, True), (summary_json, False), (platforms_out, True), (groups_out, True),
                           (contexts_out, True), (roles_out, True)):
        if path and path is output and is_dataset_path(path):
            check_dataset_writable(path)
        elif path:
            check_writable(path, table=is_table)
    _local_only(engine, scheduler=scheduler, workers=workers, worker_memory=worker_memory, single_file_limit=single_file_limit)
    if groups_out and not group_by:
        raise click.UsageError("--groups needs --group-by")
    _set_threads(o["threads"])

    from .pipeline import attribute as run
    from .timing import StageLog

    log = StageLog()
    kwargs = dict(period=period, group_by=group_by, min_wage=min_wage, breakdown=not no_breakdown, log=log, **_model_kwargs(o))
    if engine == "dask":
        from .distributed.cluster import connect
        from .distributed.engine import check_options

        check_options(**kwargs)  # before a cluster starts
        import dask
        from dask.utils import parse_bytes

        try:
            limit = parse_bytes(single_file_limit) if single_file_limit is not None else None
        except ValueError:
            raise click.BadParameter(f"{single_file_limit!r} is not a size (e.g. 4GiB)", param_hint="--single-file-limit") from None
        single = {} if not output or is_dataset_path(output) else {
            "graphlabor.single-file-output": output, "graphlabor.single-file-limit": limit}
        with connect(scheduler=scheduler, workers=workers, worker_memory=worker_memory, threads=o["threads"]) as client, \
                dask.config.set(single):
            result = run(list(edges), o["nodes"], engine="dask", client=client, **kwargs)
            _write_outputs(result, log, output, platforms_out, groups_out, contexts_out, roles_out, o["context_col"])  # a dataset: by the workers
    else:
        result = run(list(edges), o["nodes"], **kwargs)
        _write_outputs(result, log, output, platforms_out, groups_out, contexts_out, roles_out, o["context_col"])
    if summary_json:
        from .output import write_json

        doc = result.summary.to_dict()
        doc["inputs"] = {"edges": list(edges), "nodes": o["nodes"]}
        if result.periods is not None:
            doc["periods"] = [s.to_dict() for s in result.periods]
        doc["stages"] = log.as_dicts()
        doc["startup"] = log.startup()
        write_json(doc, summary_json)
    if quiet:
        return
    click.echo(result.summary.format())
    if result.periods is not None and any(p.kept_without_activity for p in result.periods):
        click.echo("\nkept by platforms with no activity to pass it to, by period")
        for p in result.periods:
            if p.kept_without_activity:
                click.echo(f"  {p.period}  {p.kept_without_activity:>16,.2f}")
    if group_by and not groups_out:
        _print_table(f"users by {group_by}", result.groups)
    if not output and top:
        _print_top(result, top)


@main.command()
@click.argument("edges", nargs=-1, required=True, type=click.Path())
@click.argument("node")
@_model_options
@click.option("--top", type=click.IntRange(1), default=10, show_default=True, help="Sources of the last hop to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@_engine_options
@_handle_errors
def explain(edges: tuple[str, ...], node: str, top: int, as_json: bool, engine: str, scheduler: str | None,
            workers: int | None, worker_memory: str | None, **o: Any) -> None:
    """Decompose NODE's attributed value: by payer, platform, contribution kind and last hop.

    The parts of each decomposition add up to the node's attributed value.
    NODE is read as an integer when the edge ids are integers. With
    --engine dask, the attribution and the adjoint solve run on the cluster
    (the same numbers).

    \b
    Example:
      graphlabor explain edges.parquet u000042 --nodes nodes.parquet
    """
    _fast_start(engine, "explain")
    _local_only(engine, scheduler=scheduler, workers=workers, worker_memory=worker_memory)
    _set_threads(o["threads"])
    from .pipeline import explain as run

    kwargs = _model_kwargs(o)
    if engine == "dask":
        from .distributed.cluster import connect
        from .distributed.engine import check_options

        check_options(**kwargs)  # before a cluster starts
        with connect(scheduler=scheduler, workers=workers, worker_memory=worker_memory, threads=o["threads"]) as client:
            exp = run(list(edges), node, o["nodes"], top=top, engine="dask", client=client, **kwargs)
    else:
        exp = run(list(edges), node, o["nodes"], top=top, **kwargs)
    if as_json:
        import json

        click.echo(json.dumps(exp.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(exp.format(limit=top))


@main.command()
@click.argument("out", type=click.Path())
@click.option("--nodes", "nodes_out", type=click.Path(), help="Nodes file to write (default: OUT with _nodes before the extension).")
@click.option("--edges", "n_edges", type=float, default=1e6, show_default=True, help="Number of edges (1e7 and 10000000 both work).")
@click.option("--users", type=float, help="Number of users (default: from --edges, the activity distribution and the drivers' rides per week over --span-days).")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed; the same seed gives the same files.")
@click.option("--families", default="social,microwork,ondemand", show_default=True, help="Comma-separated platform families to generate.")
@click.option("--ids", type=click.Choice(["str", "int"]), default="str", show_default=True, help="String or integer node ids.")
@click.option("--start", default="2024-01-01", show_default=True, help="First day of the timestamps (UTC).")
@click.option("--span-days", type=click.IntRange(1), default=365, show_default=True, help="Days the timestamps cover.")
@click.option("--contexts/--no-contexts", default=True, show_default=True, help="Write the context column (campaigns, task batches, rides); --no-contexts leaves it out.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@_handle_errors
def generate(out: str, nodes_out: str | None, n_edges: float, users: float | None, seed: int, families: str, ids: str,
             start: str, span_days: int, contexts: bool, quiet: bool) -> None:
    """Write a synthetic platform economy (edges and nodes) as Parquet to OUT.

    Calibrated on published figures (see docs/generator.md); streamed in row
    groups so memory stays bounded at any size.

    \b
    Example:
      graphlabor generate economy.parquet --edges 1e7 --seed 1
      graphlabor attribute economy.parquet --nodes economy_nodes.parquet
    """
    from .generate import default_nodes_path, generate as gen
    from .output import check_writable

    nodes_out = nodes_out or default_nodes_path(out)
    check_writable(out, table=False)
    check_writable(nodes_out, table=False)
    fams = tuple(f.strip() for f in families.split(",") if f.strip())
    info = gen(
        out, nodes_out, edges=int(n_edges), users=int(users) if users else None, seed=seed,
        families=fams, ids=ids, start=start, span_days=span_days, contexts=contexts,
    )
    if not quiet:
        click.echo(f"wrote {out} and {nodes_out}")
        for k, v in info.to_dict().items():
            if isinstance(v, (int, float, str)):
                click.echo(f"  {k}: {v}")


@main.command()
@click.argument("edges", nargs=-1, required=True, type=click.Path())
@_model_options
@click.option("--levy", type=float, required=True, help="Share of each platform's base paid into the fund, in [0, 1].")
@click.option("--base", type=click.Choice(["capture", "revenue"]), default="capture", show_default=True, help="Levy base: capture (revenue - pay, at least 0) or revenue.")
@click.option("--scheme", "schemes", callback=_parse_kinds, default=None, help="Comma-separated schemes: equal, unpaid, floor (default equal,unpaid, plus floor with --floor).")
@click.option("--floor", type=float, help="Income per hour the floor scheme tops up to (needs nodes-file hours).")
@click.option("--group-by", help="A nodes-file column: statistics per scheme and group.")
@click.option("-o", "--output", type=click.Path(), help="Write one row per user: paid, transfer_<scheme>, income_<scheme> (.parquet, .csv, .json, .jsonl).")
@click.option("--summary-json", type=click.Path(), help="Write the fund and the per-scheme (and per-group) statistics as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@_handle_errors
def redistribute(edges: tuple[str, ...], levy: float, base: str, schemes: tuple[str, ...] | None, floor: float | None,
                 group_by: str | None, output: str | None, summary_json: str | None, quiet: bool, **o: Any) -> None:
    """Simulate a digital social income: a levy on platforms shared among users.

    Each platform pays LEVY x its capture (or revenue) into one fund; each
    scheme shares the fund among users: equal (the same to everyone), unpaid
    (pro rata to unpaid value), floor (tops up income per hour to --floor,
    lowest first). See docs/model.md.

    \b
    Example:
      graphlabor redistribute edges.parquet --nodes nodes.parquet --levy 0.1 --floor 15 --group-by family
    """
    from .output import check_writable

    for path, is_table in ((output, True), (summary_json, False)):
        if path:
            check_writable(path, table=is_table)
    if schemes is None:
        schemes = ("equal", "unpaid", "floor") if floor is not None else ("equal", "unpaid")
    _set_threads(o["threads"])
    from .pipeline import attribute as run

    result = run(list(edges), o["nodes"], breakdown=False, **_model_kwargs(o))
    dist = result.redistribute(levy, schemes=schemes, base=base, floor=floor, group_by=group_by)
    if output:
        from .output import write_table

        write_table(dist.users, output)
    if summary_json:
        from .output import write_json

        doc = dist.to_dict()
        doc["inputs"] = {"edges": list(edges), "nodes": o["nodes"]}
        doc["params"] = result.summary.params
        write_json(doc, summary_json)
    if quiet:
        return
    click.echo(dist.format())
    if group_by:
        _print_table(f"by {group_by}", dist.groups)


@main.command()
@click.argument("edges", nargs=-1, required=True, type=click.Path())
@_model_options
@click.option("--grid", "grid_specs", multiple=True, required=True, metavar="NAME=V1,V2,...", help="Values to try (repeatable): damping, platform_share or kind_weight.KIND.")
@click.option("-o", "--output", type=click.Path(), help="Write one row per setting (.csv, .parquet, .json, .jsonl).")
@click.option("--moves", "moves_out", type=click.Path(), help="Write the users whose rank moved most in each setting.")
@click.option("--top-moves", type=click.IntRange(0), default=10, show_default=True, help="Largest rank moves to keep per setting.")
@click.option("--summary-json", type=click.Path(), help="Write the settings and the rank moves as JSON.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@_handle_errors
def sensitivity(edges: tuple[str, ...], grid_specs: tuple[str, ...], output: str | None, moves_out: str | None,
                top_moves: int, summary_json: str | None, quiet: bool, **o: Any) -> None:
    """Rerun the attribution over a grid of normative parameters and compare with the baseline.

    Every combination of the --grid values is solved, each solve warm-started
    from the previous one. The other model options give the baseline (setting
    0). For each setting: attributed to users, unpaid share, Gini, top-10%
    share, rank agreement with the baseline (Kendall's tau-b, Spearman) and
    the largest rank moves.

    \b
    Example:
      graphlabor sensitivity edges.parquet --nodes nodes.parquet \\
          --grid damping=0.5,0.7,0.85 --grid platform_share=0,0.2 --grid kind_weight.view=0.2,1 -o sens.csv
    """
    from .output import check_writable
    from .robustness import parse_grid

    grid = parse_grid(grid_specs)
    for path, is_table in ((output, True), (moves_out, True), (summary_json, False)):
        if path:
            check_writable(path, table=is_table)
    _set_threads(o["threads"])
    from .robustness import sensitivity as run

    kw = _model_kwargs(o)
    res = run(list(edges), o["nodes"], grid=grid, top_moves=top_moves, **kw)
    from .output import write_json, write_table

    if output:
        write_table(res.settings, output)
    if moves_out:
        write_table(res.moves, moves_out)
    if summary_json:
        doc = res.to_dict()
        doc["inputs"] = {"edges": list(edges), "nodes": o["nodes"]}
        write_json(doc, summary_json)
    if quiet:
        return
    click.echo(res.format())
    if not moves_out and res.moves.num_rows:
        click.echo("\nlargest rank moves (rank 1 = most attributed; negative = moved up)")
        for setting in sorted(set(res.moves["setting"].to_pylist()))[:5]:
            part = [r for r in res.moves.to_pylist() if r["setting"] == setting][:3]
            click.echo(f"  setting {setting}: " + ", ".join(f"{r['node']} {r['rank_baseline']}->{r['rank']}" for r in part))


@main.command()
@click.argument("edges", nargs=-1, required=True, type=click.Path())
@_model_options
@click.option("-o", "--output", type=click.Path(), required=True, help="The HTML file to write (one self-contained file).")
@click.option("--group-by", help="A nodes-file column (family, country...): Lorenz curves, kinds and flows per group.")
@click.option("--period", type=click.Choice(["day", "week", "month", "quarter", "year"]), help="Add series over time, one attribution per calendar period.")
@click.option("--min-wage", type=float, help="With nodes-file hours: draw the minimum-wage line and count users below it.")
@click.option("--levy", type=float, help="Add a digital social income simulation with this levy (see graphlabor redistribute).")
@click.option("--base", type=click.Choice(["capture", "revenue"]), default="capture", show_default=True, help="Levy base.")
@click.option("--scheme", "schemes", callback=_parse_kinds, default=None, help="Schemes for --levy (default equal,unpaid, plus floor with --floor).")
@click.option("--floor", type=float, help="Income per hour for the floor scheme.")
@click.option("--grid", "grid_specs", multiple=True, metavar="NAME=V1,V2,...", help="Add a sensitivity grid (see graphlabor sensitivity); repeatable.")
@click.option("--title", default="graphlabor report", show_default=True, help="Title of the page.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@_handle_errors
def report(edges: tuple[str, ...], output: str, group_by: str | None, period: str | None, min_wage: float | None,
           levy: float | None, base: str, schemes: tuple[str, ...] | None, floor: float | None,
           grid_specs: tuple[str, ...], title: str, quiet: bool, **o: Any) -> None:
    """Write a one-file HTML report: money flows, inequality, platforms, kinds, top users.

    The page is self-contained (no network, no external files) and stays
    small at any graph size. --levy adds the digital social income, --grid a
    sensitivity analysis, --period series over time.

    \b
    Example:
      graphlabor report edges.parquet --nodes nodes.parquet --group-by family --levy 0.1 -o report.html
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        from .report import INSTALL_HINT

        raise click.ClickException(INSTALL_HINT) from None
    from .output import check_writable

    check_writable(output, table=False)
    grid = None
    if grid_specs:
        from .robustness import parse_grid

        grid = parse_grid(grid_specs)
    if levy is None and (schemes or floor is not None):
        raise click.UsageError("--scheme and --floor need --levy")
    _set_threads(o["threads"])
    from .pipeline import attribute as run

    kw = _model_kwargs(o)
    result = run(list(edges), o["nodes"], group_by=group_by, min_wage=min_wage, **kw)
    dist = None
    if levy is not None:
        if schemes is None:
            schemes = ("equal", "unpaid", "floor") if floor is not None else ("equal", "unpaid")
        dist = result.redistribute(levy, schemes=schemes, base=base, floor=floor, group_by=group_by)
    per = run(list(edges), o["nodes"], group_by=group_by, period=period, breakdown=False, **kw) if period else None
    sens = None
    if grid:
        from .robustness import sensitivity as run_grid

        sens = run_grid(list(edges), o["nodes"], grid=grid, **kw)
    result.report(output, redistribution=dist, sensitivity=sens, period_result=per, period=period,
                  group_by=group_by, min_wage=min_wage, inputs={"edges": list(edges), "nodes": o["nodes"]}, title=title)
    if not quiet:
        import os

        click.echo(f"wrote {output} ({os.path.getsize(output) / 1e6:.2f} MB); open it in a browser")


def _print_table(title: str, table: pa.Table) -> None:
    click.echo(f"\n{title}")
    names = table.column_names
    rows = table.to_pylist()

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.4g}" if abs(v) < 1 else f"{v:,.2f}"
        return "-" if v is None else str(v)

    cells = [[fmt(r[n]) for n in names] for r in rows]
    widths = [max(len(n), *(len(c[i]) for c in cells)) if cells else len(n) for i, n in enumerate(names)]
    click.echo("  ".join(n.rjust(w) for n, w in zip(names, widths)))
    for c in cells:
        click.echo("  ".join(v.rjust(w) for v, w in zip(c, widths)))


def _print_top(result: AttributionResult, k: int) -> None:
    top = result.top_users(k)
    if top.num_rows == 0:
        return
    click.echo(f"\ntop {top.num_rows} users by attributed value")
    rows = top.select(["rank", "node", "attributed", "paid", "share"]).to_pylist()
    width = max(4, max(len(str(r["node"])) for r in rows))
    click.echo(f"{'rank':>4}  {'node':<{width}}  {'attributed':>14}  {'paid':>12}  {'share':>7}")
    for r in rows:
        click.echo(f"{r['rank']:>4}  {str(r['node']):<{width}}  {r['attributed']:>14,.2f}  {r['paid']:>12,.2f}  {100 * r['share']:>6.2f}%")


if __name__ == "__main__":  # pragma: no cover
    main()
