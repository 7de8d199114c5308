"""Check any WordPiece vocab.txt the way BERT's TensorFlow tokenizer will read it.

Reports the id layout of the special tokens, entries by kind, [unused] filler entries, empty lines,
duplicated tokens (BERT keeps the last occurrence after stripping each line, so earlier ones are
dead ids) and learned entries the tokenizer can never produce because punctuation, whitespace and
control characters are split off or removed before WordPiece runs.

Exit status: 0 when the file is clean, 1 when any defect was found, 2 when it cannot be read.
"""
from __future__ import annotations

import argparse

from norlm.files import write_json
from norlm.vocab.quality import analyse, format_quality
from norlm.vocab.vocab_file import read_vocab


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", help="WordPiece vocabulary, one token per line (e.g. data/norbert_vocab/"
                                     "norwegian_wordpiece_vocab_30k.txt)")
    parser.add_argument("--json", metavar="OUT", help="also write the findings as JSON to OUT")


def main(args: argparse.Namespace, cfg) -> int:
    from norlm.errors import StageError

    try:
        vf = read_vocab(args.file)
    except (OSError, ValueError) as exc:
        raise StageError(str(exc)) from None
    if not vf.lines:
        raise StageError(f"{args.file}: the file is empty")
    quality = analyse(vf)
    print(format_quality(quality))
    if args.json:
        write_json(args.json, quality.to_json())
    return 1 if quality.problems else 0
