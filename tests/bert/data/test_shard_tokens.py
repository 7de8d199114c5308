"""Reading a corpus shard: ids equal the vocabulary stage's tokenizer line by line, documents kept."""
from __future__ import annotations

import gzip

import numpy as np

from norlm.bert.data.shard_tokens import read_shard

from norlm.corpus.samples import ndt_documents

TRICKY = [
    "Vanlig norsk tekst med æøå ÆØÅ , punktum . og «sitater» – tankestrek … € 10½ §3",
    "tab\tinni linja",
    "hardt\u00a0mellomrom og myk\u00adbindestrek",
    "kontroll\u0007tegn og null\u0000byte og \ufffd erstatning",
    "CJK 中文字 og emoji 🙂 og kombinerende e\u0301",
    "literal [MASK] og [CLS] i teksten",
    "smal\u202fmellomrom og zero\u200bwidth",
    "x" * 150,
]


def test_ids_equal_the_tokenizer_line_by_line(tmp_path, tokenizer_json):
    from norlm.vocab.tokenizer import load_tokenizer

    tok = load_tokenizer(tokenizer_json)
    docs = ndt_documents(12)
    docs.insert(1, TRICKY)
    docs.insert(3, ["\x07"])  # tokenises to nothing: sentence and document vanish
    text = "".join("\n".join(d) + "\n\n\n" for d in docs)  # extra blank lines are harmless
    path = tmp_path / "mixed.txt.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(text)
    shard = read_shard(path, tok, lines_per_batch=50)  # several blocks
    kept = [d for d in docs if d != ["\x07"]]
    assert shard.num_docs == len(kept) and shard.stats["empty_sentences"] == 1
    want = [tok.encode(s.strip(), add_special_tokens=False).ids for d in kept for s in d]
    got = [shard.tokens[shard.sent_off[i]:shard.sent_off[i + 1]].tolist() for i in range(shard.num_sentences)]
    assert got == want
    np.testing.assert_array_equal(np.diff(shard.doc_sent), [len(d) for d in kept])
    assert shard.stats["lines"] == text.count("\n")
