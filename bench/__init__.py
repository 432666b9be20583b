"""Benchmarks: lernwerk against its peers, on the machine it runs on.

A tool of the source checkout, not part of the installed package: `python -m bench.run`
(or `make bench`, or `lernwerk bench` run from a checkout) runs the suites below and writes
a markdown report with a section per suite plus the raw numbers as JSON. It stands beside
the faces: it imports lernwerk's public API and below, never the CLI or the server (the
server is measured through HTTP, in a subprocess).

Suites: `tabular` (the lecture benchmark), `digits` (LeNet), `images` (CNNs, FLOP/s
against the machine's matmul peak), `predict` (latency through the API and over HTTP),
`ucr` (FCN and ResNet on two UCR time-series sets against published accuracies), `lecture`
(classical baselines against lenet and mlp on the digits), `transfer` (the pretrained
backbone against networks from scratch and the baselines; image anomaly detection),
`export` (ONNX single-sample latency against PyTorch's), `inspect` (`lernwerk inspect`
images per second against decoding alone), `explain` (one input's saliency against its
ceiling and against a prediction), `workshop` (simulated participants on one workshop
server: 5xx, lost samples, finished trainings, p99 latency), `sweep` (20 trials of the MLP
on 2 workers: the best trial against the default run, wall time, the epochs pruning saves),
`playground` (frames per second pulled while the network trains, and the training speed
they cost).
"""

SUITES = (
    "tabular",
    "digits",
    "images",
    "predict",
    "ucr",
    "lecture",
    "transfer",
    "export",
    "inspect",
    "explain",
    "workshop",
    "sweep",
    "playground",
)

__all__ = ["SUITES"]
