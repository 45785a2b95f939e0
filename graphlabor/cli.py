"""Command-line interface: parses options, calls the pipeline, reports.

Heavy modules (numba, pyarrow, the pipeline) are imported inside commands so
that ``graphlabor --help`` and ``graphlabor --version`` answer fast.
"""

from __future__ import annotations

import functools
import os
import sys

import click

from ._version import __version__


def _parse_kind_weight(ctx, param, values):
    out = {}
    for v in values:
        kind, sep, w = v.partition("=")
        if not sep or not kind.strip():
            raise click.BadParameter(f"{v!r} is not KIND=WEIGHT (for example click=0.5)", param=param)
        try:
            wf = float(w)
        except ValueError:
            raise click.BadParameter(f"{v!r}: weight {w!r} is not a number", param=param) from None
        if not (wf >= 0 and wf != float("inf")):
            raise click.BadParameter(f"{v!r}: weight must be a finite number >= 0", param=param)
        out[kind.strip()] = wf
    return out


def _parse_kinds(ctx, param, value):
    if value is None:
        return None
    return tuple(k.strip() for k in value.split(",") if k.strip())


def _handle_errors(fn):
    """Turn library errors into one line on stderr and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        debug = click.get_current_context().find_root().params.get("debug", False)
        try:
            return fn(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except KeyboardInterrupt:
            click.echo("graphlabor: interrupted; no output written", err=True)
            sys.exit(130)
        except Exception as e:
            if debug:
                raise
            from .errors import GraphlaborError

            if isinstance(e, GraphlaborError):
                click.echo(f"Error: {e}", err=True)
                sys.exit(e.exit_code)
            if isinstance(e, MemoryError):
                click.echo("Error: out of memory (see `graphlabor attribute --help` for options that reduce it)", err=True)
                sys.exit(1)
            click.echo(f"Error: unexpected {type(e).__name__}: {e} (run with --debug for a traceback)", err=True)
            sys.exit(1)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="graphlabor")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
def main(debug):
    """graphlabor: attribute platform revenue to the digital labor that produced it.

    Reads edge lists of who acted on whom (users, platforms, advertisers),
    propagates the money platforms receive back to the people whose
    activity produced it, and sets that beside what each was paid.
    """


@main.command()
@click.argument("edges", nargs=-1, required=True, type=click.Path())
@click.option("--nodes", type=click.Path(), help="Nodes file: id, role, value and extra columns.")
@click.option("-o", "--output", type=click.Path(), help="Write one row per node (.parquet, .csv, .json, .jsonl).")
@click.option("--summary-json", type=click.Path(), help="Write the summary as JSON.")
@click.option("--damping", type=float, default=0.85, show_default=True, help="Share a user passes on, in [0, 1).")
@click.option("--platform-share", type=float, default=0.0, show_default=True, help="Share a platform keeps, in [0, 1].")
@click.option("--kind-weight", multiple=True, callback=_parse_kind_weight, metavar="KIND=W", help="Weight of a contribution kind (repeatable; default 1).")
@click.option("--revenue-kinds", callback=_parse_kinds, default="spend,fee", show_default=True, help="Comma-separated kinds that carry revenue.")
@click.option("--pay-kinds", callback=_parse_kinds, default="pay", show_default=True, help="Comma-separated kinds that carry pay.")
@click.option("--tol", type=float, default=1e-10, show_default=True, help="Stop when the L1 change < tol x injected total.")
@click.option("--max-iter", type=int, default=1000, show_default=True, help="Most power iterations.")
@click.option("--src-col", help="Name of the source id column (default src or source).")
@click.option("--dst-col", help="Name of the target id column (default dst or target).")
@click.option("--top", type=click.IntRange(0), default=10, show_default=True, help="Top users to print when no -o is given.")
@click.option("--threads", type=click.IntRange(1), help="Numba threads (default: all cores).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@_handle_errors
def attribute(edges, nodes, output, summary_json, damping, platform_share, kind_weight, revenue_kinds, pay_kinds, tol, max_iter, src_col, dst_col, top, threads, quiet):
    """Attribute injected value along EDGES (Parquet, CSV, Arrow IPC files or Parquet directories).

    \b
    Example:
      graphlabor attribute edges.parquet --nodes nodes.parquet -o attributed.parquet
    """
    from .output import check_writable

    for path in (output, summary_json):
        if path:
            check_writable(path, table=path is output)
    if threads:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))

    from .pipeline import attribute as run
    from .timing import StageLog

    log = StageLog()
    result = run(
        list(edges),
        nodes,
        damping=damping,
        platform_share=platform_share,
        kind_weights=kind_weight,
        revenue_kinds=revenue_kinds,
        pay_kinds=pay_kinds,
        tol=tol,
        max_iter=max_iter,
        src_col=src_col,
        dst_col=dst_col,
        log=log,
    )
    if output:
        with log.stage("write"):
            result.write(output)
    if summary_json:
        from .output import write_json

        doc = result.summary.to_dict()
        doc["inputs"] = {"edges": list(edges), "nodes": nodes}
        doc["stages"] = result.timings if not output else log.as_dicts()
        write_json(doc, summary_json)
    if quiet:
        return
    click.echo(result.summary.format())
    if not output and top:
        _print_top(result, top)


def _print_top(result, k: int) -> None:
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
