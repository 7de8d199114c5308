"""BERT pretraining data: corpus shards -> NVIDIA-schema TFRecords + manifest (bert-data, bert-data-inspect)."""
