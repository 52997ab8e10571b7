"""Returns OUT_<T> equal to IN_<T> for every input the request carries."""

import triton_python_backend_utils as pb_utils

SUFFIXES = ("FP32", "FP16", "INT64", "BOOL", "BYTES")


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            outputs = []
            for suffix in SUFFIXES:
                tensor = pb_utils.get_input_tensor_by_name(request, f"IN_{suffix}")
                if tensor is not None:
                    outputs.append(pb_utils.Tensor(f"OUT_{suffix}", tensor.as_numpy()))
            responses.append(pb_utils.InferenceResponse(output_tensors=outputs))
        return responses
