"""Load the BERT that gets fine-tuned: an HF-format folder (our export or an imported model), or the
no-pretraining baseline (same architecture and tokenizer, random weights)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from norlm.evaluate.readers import DataError


@dataclass
class BertBundle:
    """An encoder ready to fine-tune, its tokenizer and where they came from."""

    model: object  # norlm.bert.model.BertPretrainingModel
    tokenizer: object  # tokenizers.Tokenizer
    config: object  # norlm.bert.model.BertConfig
    source: str
    pretrained: bool
    parameters: int


def load_tokenizer_for(hf_dir: Path):
    """tokenizer.json of the folder, else BERT's cased WordPiece tokenizer over its vocab.txt."""
    from norlm.vocab.tokenizer import build_tokenizer, load_tokenizer

    if (hf_dir / "tokenizer.json").is_file():
        tok = load_tokenizer(hf_dir)
    elif (hf_dir / "vocab.txt").is_file():
        tok = build_tokenizer(hf_dir / "vocab.txt")
    else:
        raise DataError(f"{hf_dir}: neither tokenizer.json nor vocab.txt, so the text cannot be tokenised")
    tok.no_truncation()
    tok.no_padding()
    for special in ("[CLS]", "[SEP]"):
        if tok.token_to_id(special) is None:
            raise DataError(f"{hf_dir}: the tokenizer has no {special} token")
    return tok


def load_bert(hf_dir: str | Path, pretrained: bool = True, seed: int = 0) -> BertBundle:
    """The BERT of an HF folder; with `pretrained=False`, its architecture with fresh random weights."""
    from norlm.bert.interop.hf_files import HFFolderError
    from norlm.bert.interop.import_hf import assign_weights, read_hf_bert
    from norlm.bert.model import BertPretrainingModel, count_parameters

    hf_dir = Path(hf_dir)
    if not (hf_dir / "config.json").is_file():
        raise DataError(f"{hf_dir}: no config.json; expected a Hugging Face BERT folder "
                        "(run `make bert-export`, or pass --model PATH to an imported model)")
    try:
        config, arrays = read_hf_bert(hf_dir)
    except HFFolderError as exc:
        raise DataError(str(exc)) from None
    model = BertPretrainingModel(config, seed=seed)
    if pretrained:
        assign_weights(model, arrays)
    return BertBundle(model, load_tokenizer_for(hf_dir), config, str(hf_dir), pretrained, count_parameters(model))
