"""evaluate stage: the paper's downstream benchmarks for our BERT, our ELMo and imported BERTs.

readers (CoNLL-U, NDT, NoReC CSV) -> tasks (splits, demo/paper protocol, subsets) -> models
(bert_models + bert_finetune: fine-tune every weight; elmo_probe: frozen features + layers) ->
training (epoch loop, best dev epoch) -> scoring/metrics -> results (per task/model JSON) ->
report (paper-style tables).  `stage` is the CLI; `runner` runs one (model, task, language).
"""
