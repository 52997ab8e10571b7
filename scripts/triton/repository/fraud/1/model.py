"""Runs the project's fraud model (models/fraud/1/model.onnx) with onnxruntime, one batch per call.

Triton's dynamic batcher hands execute() several requests; their rows are stacked into one ONNX
Runtime run and the result rows are split back per request, as Triton's own onnxruntime backend does.
"""

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils

# scripts/triton/repository/fraud/1/model.py -> the checkout's root.
CHECKOUT = Path(__file__).resolve().parents[5]


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        relative = config["parameters"]["onnx_model"]["string_value"]
        root = Path(os.environ.get("INFERGATE_ROOT") or CHECKOUT)
        path = root / relative
        if not path.is_file():
            raise pb_utils.TritonModelException(
                f"fraud: parameter onnx_model: expected an ONNX file at {path} "
                f"(relative to INFERGATE_ROOT or the checkout), found none"
            )
        options = ort.SessionOptions()
        # One thread per run: each replica is one process among several on a small test machine.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def execute(self, requests):
        batches = [pb_utils.get_input_tensor_by_name(r, "features").as_numpy() for r in requests]
        features = np.concatenate(batches).astype(np.float32, copy=False)
        (probabilities,) = self.session.run(["probabilities"], {"features": features})
        responses = []
        start = 0
        for rows in batches:
            part = probabilities[start : start + len(rows)]
            start += len(rows)
            out = pb_utils.Tensor("probabilities", np.ascontiguousarray(part, dtype=np.float32))
            responses.append(pb_utils.InferenceResponse(output_tensors=[out]))
        return responses
