"""BERT pretraining: the bert-train stage, its trainer loop, input pipeline, losses, LAMB, schedule, checkpoints."""
