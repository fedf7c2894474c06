"""Command line: ``python -m skinfluence demo``, ``report``, ``--version``."""

import argparse
import sys


def main(argv=None):
    """Entry point of the ``skinfluence`` command.

    Examples
    --------
    >>> main(["--version"])  # doctest: +SKIP
    skinfluence 0.1.0
    """
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="skinfluence", description="Influence diagnostics for scikit-learn models."
    )
    parser.add_argument("--version", action="version", version=f"skinfluence {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="find flipped labels in breast-cancer data by Cook's distance"
    )
    demo.add_argument("--flip", type=float, default=0.1, help="fraction of labels flipped")
    demo.add_argument("--top", type=int, default=15, help="rows to print")
    demo.add_argument("--seed", type=int, default=0)
    report = sub.add_parser(
        "report", help="fit a model on a CSV file and write an HTML influence report"
    )
    report.add_argument("data", help="CSV file with a header row")
    report.add_argument("--target", required=True, help="name of the response column")
    report.add_argument("--model", choices=["ols", "logistic", "poisson"], default="ols",
                        help="unpenalized linear, logistic or Poisson regression (R's lm/glm)")
    report.add_argument("--out", default="report.html", help="HTML file to write")
    report.add_argument("--index-col", default=None,
                        help="column holding the row labels (default: row positions)")
    report.add_argument("--rows", type=int, default=10, help="influential rows listed")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        run_demo(flip=args.flip, top=args.top, seed=args.seed)
    elif args.command == "report":
        from ._report import run_report

        try:
            inf = run_report(args.data, args.target, args.model, args.out,
                             index_col=args.index_col, n_rows=args.rows)
        except (ValueError, OSError) as exc:
            parser.exit(2, f"skinfluence report: error: {exc}\n")
        print(f"wrote {args.out} ({inf!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
