"""corpus stage: raw Wikipedia / Norsk Aviskorpus / plain / NDT text -> clean, deduplicated shards.

Modules: `settings` ([corpus] config), `units` (sources -> ordered input units), `readers/` (one
reader per input format), `inputs` (robust line reading, bad-input tally), `text` (decoding,
clean-up, detokenisation), `segment` (Punkt / Stanza), `filters` (sentence filters), `process`
(step 1: unit -> part), `dedup` (step 2: bucketed exact and MinHash dedup), `shards` (step 3:
source -> shards), `stats` (stats.json and the printed table), `stage` (the `norlm corpus` CLI).
"""
