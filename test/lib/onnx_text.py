#!/usr/bin/env python3
"""Turns an ONNX text-syntax model into a binary .onnx file for tests.

Test files hold the model in ONNX's text syntax; their RUN and CHECK lines
are '#' comments, which the ONNX parser skips. Usage:
    onnx_text.py MODEL.onnxtxt -o OUT.onnx [--no-check]
"""
import argparse
import sys

import onnx
import onnx.parser


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("source")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--no-check", action="store_true",
                    help="skip onnx.checker (for deliberately invalid models)")
    args = ap.parse_args()
    with open(args.source) as f:
        model = onnx.parser.parse_model(f.read())
    if not args.no_check:
        onnx.checker.check_model(model, full_check=False)
    onnx.save(model, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
