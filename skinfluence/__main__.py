"""Command line: ``python -m skinfluence demo``."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="skinfluence", description="Influence diagnostics for scikit-learn models."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="find flipped labels in breast-cancer data by Cook's distance"
    )
    demo.add_argument("--flip", type=float, default=0.1, help="fraction of labels flipped")
    demo.add_argument("--top", type=int, default=15, help="rows to print")
    demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        run_demo(flip=args.flip, top=args.top, seed=args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
