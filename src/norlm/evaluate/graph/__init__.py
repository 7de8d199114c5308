"""The paper's two graph-parsing tasks: fine-grained sentiment (NoReC_fine) and negation (NoReC_neg).

Readers, graph encodings, converters, the reference scorers and a Dozat & Manning style graph
parser on frozen LM vectors (see ../shared/specs/graph-tasks.md for the facts they follow).
"""

GRAPH_TASKS = ("finegrained", "negation")
