"""The throughput benchmark (`python -m kcolor.bench`, `make bench`): kcolor's top floor.

Its modules, each importing only those listed before it (no cycles):

- `stats`: what every row reports, the step timing and the peak resident memory;
- `cluster`: N local TensorFlow worker processes on 127.0.0.1 (the multi-worker row,
  and the multi-worker test);
- `torch_peer`: the PyTorch peer, Isola's Pix2Pix built as kcolor's `preset=isola`;
- `peer`: the comparison with the peer: its cases, the conv peaks, the profile, the ratios;
- `cases`: what one case measures, in its own (child) process;
- `run`: the driver: which cases run, one child process each, the table and `bench.json`;
- `video`: `make bench BENCH=video`, video colorization's frames/s at 1280x720 (the whole
  `colorize_video` pipeline and the model alone: Keras, SavedModel, LiteRT) beside the same
  generator exported from PyTorch to ONNX and run by ONNX Runtime, and its peak memory
  against the clip's length (flat when it streams); `bench_video.json`.

Nothing is imported here, so a case's process loads only what its case needs (the
PyTorch peer's process never loads TensorFlow).
"""
