"""The native step engine: a graph's generation step lowered to one C call per token.

Units lower their step path onto a `Program` (program.py); `stepper.py` lowers a whole graph
and runs it with the engine compiled from engine.c (compile.py). Where anything is missing (no
C compiler, a unit without a lowering, a CUDA graph) generation runs on the PyTorch step path.
"""
