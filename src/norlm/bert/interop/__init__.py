"""BERT interop: Hugging Face folders and TF1 checkpoints in and out (bert-export, bert-import), model card."""
